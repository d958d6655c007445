import { constants, createPublicKey, type KeyObject, verify } from 'node:crypto';
import { type DsseEnvelope, keyIdOf, pae } from '../signing/index.ts';

export type EnvelopeVerdict = { ok: true; keyId: string } | { ok: false; reason: string };

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Verifies a DSSE envelope (object, or its JSON bytes/text) against one public key: true when at
 * least one signature is valid over PAE(payloadType, payload). Pure: no I/O, no clock.
 *
 * Schemes tried per key type: Ed25519 pure; RSA PKCS#1 v1.5 SHA-256, then RSA-PSS SHA-256; ECDSA (DER) with the
 * curve's cosign-default hash and with SHA-256 (Chains' x509.pem signer uses SHA-256 for every
 * curve; both are collision-resistant, so accepting either does not weaken the check).
 * `keyid` in the envelope is an unauthenticated hint (DSSE spec) and is not required to match.
 * Returns `keyId`, the SSH fingerprint of the key that verified.
 */
export function verifyEnvelope(
  envelope: DsseEnvelope | Uint8Array | string,
  publicKey: string | KeyObject,
): EnvelopeVerdict {
  const parsed = parseEnvelope(envelope);
  if ('reason' in parsed) return { ok: false, reason: parsed.reason };
  let key: KeyObject;
  try {
    key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
    if (key.type === 'private') key = createPublicKey(key);
  } catch {
    return { ok: false, reason: 'public key does not parse' };
  }
  if (digestsFor(key).length === 0)
    return { ok: false, reason: `unsupported key type ${key.asymmetricKeyType}` };
  const message = pae(parsed.payloadType, Buffer.from(parsed.payload, 'base64'));
  for (const s of parsed.signatures) {
    if (verifySignature(message, Buffer.from(s.sig, 'base64'), key)) return { ok: true, keyId: keyIdOf(key) };
  }
  return { ok: false, reason: `no signature verifies with key ${keyIdOf(key)}` };
}

/**
 * Whether `signature` over exactly `message` verifies with `key`, trying the schemes of its key
 * type (see verifyEnvelope). Never throws.
 */
export function verifySignature(message: Uint8Array, signature: Uint8Array, key: KeyObject): boolean {
  if (digestsFor(key).some((digest) => safeVerify(digest, message, key, signature))) return true;
  // RSA-PSS (a PKCS#11 key with x-rsa-scheme=pss): SHA-256, MGF1-SHA-256, salt length from the signature
  return key.asymmetricKeyType === 'rsa' && safeVerify('sha256', message, pss(key), signature);
}

function pss(key: KeyObject) {
  return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO };
}

function digestsFor(key: KeyObject): (string | null)[] {
  switch (key.asymmetricKeyType) {
    case 'ed25519':
      return [null];
    case 'rsa':
      return ['sha256'];
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      if (curve === 'prime256v1') return ['sha256'];
      if (curve === 'secp384r1') return ['sha384', 'sha256'];
      if (curve === 'secp521r1') return ['sha512', 'sha256'];
      return [];
    }
    default:
      return [];
  }
}

function safeVerify(
  digest: string | null,
  data: Uint8Array,
  key: KeyObject | ReturnType<typeof pss>,
  sig: Uint8Array,
): boolean {
  try {
    return verify(digest, data, key, sig);
  } catch {
    return false;
  }
}

function parseEnvelope(input: DsseEnvelope | Uint8Array | string): DsseEnvelope | { reason: string } {
  let value: unknown = input;
  if (typeof input === 'string' || input instanceof Uint8Array) {
    try {
      value = JSON.parse(Buffer.from(input).toString('utf8'));
    } catch {
      return { reason: 'envelope is not JSON' };
    }
  }
  const env = value as Partial<DsseEnvelope> | null;
  if (!env || typeof env.payloadType !== 'string' || typeof env.payload !== 'string') {
    return { reason: 'envelope lacks payloadType or payload' };
  }
  if (!BASE64.test(env.payload)) return { reason: 'payload is not standard base64' };
  if (!Array.isArray(env.signatures) || env.signatures.length === 0)
    return { reason: 'envelope has no signatures' };
  for (const s of env.signatures) {
    if (!s || typeof s.sig !== 'string' || !BASE64.test(s.sig))
      return { reason: 'signature is not standard base64' };
  }
  return env as DsseEnvelope;
}
