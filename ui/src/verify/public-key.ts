import { base64ToBytes } from './bytes.ts';
import { derToRawEcdsa } from './der.ts';
import { type Jwk, keyIdOfJwk } from './key-id.ts';

/** A key as GET /api/v1/keys publishes it. */
export interface PublishedKey {
  keyId: string;
  algorithm: string;
  publicKeyPem: string;
  active: boolean;
}

// WebCrypto types taken from `crypto.subtle` itself, so this file type-checks under DOM and Node alike
type SubtleKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;
type VerifyParams = Parameters<typeof crypto.subtle.verify>[0];
type ImportParams = Parameters<typeof crypto.subtle.importKey>[2];

/** One way to check a signature with a WebCrypto key: the key, the algorithm and the signature's form. */
interface Scheme {
  key: SubtleKey;
  params: VerifyParams;
  /** signature bytes as WebCrypto wants them, or undefined when they cannot be of this scheme */
  signature: (sig: Uint8Array<ArrayBuffer>) => Uint8Array<ArrayBuffer> | undefined;
}

/** A published key, imported for verification, with the key id recomputed from its bytes. */
export interface VerifyingKey {
  published: PublishedKey;
  /** the SSH SHA-256 fingerprint computed here; a key whose published id differs is not used */
  computedKeyId: string;
  schemes: Scheme[];
}

const EC_HASH: Record<string, string> = {
  'ecdsa-p256-sha256': 'SHA-256',
  'ecdsa-p384-sha384': 'SHA-384',
  'ecdsa-p521-sha512': 'SHA-512',
  'ecdsa-p384-sha256': 'SHA-256',
  'ecdsa-p521-sha256': 'SHA-256',
};
const EC_CURVE: Record<string, { curve: string; size: number }> = {
  'ecdsa-p256': { curve: 'P-256', size: 32 },
  'ecdsa-p384': { curve: 'P-384', size: 48 },
  'ecdsa-p521': { curve: 'P-521', size: 66 },
};

/** The DER bytes of a PEM `PUBLIC KEY` (SubjectPublicKeyInfo); throws for anything else. */
export function spkiOfPem(pem: string): Uint8Array<ArrayBuffer> {
  const m = /-----BEGIN PUBLIC KEY-----([A-Za-z0-9+/=\s]+)-----END PUBLIC KEY-----/.exec(pem);
  if (!m) throw new Error('not a PEM public key');
  return base64ToBytes(m[1]);
}

/**
 * Imports a published key for the signature schemes its algorithm allows: ECDSA P-256/P-384/P-521
 * (DER signatures), Ed25519, RSA PKCS#1 v1.5 and RSA-PSS (salt = hash length, or the maximum) with
 * SHA-256. Throws with the key id for a key this browser cannot import.
 */
export async function importPublishedKey(k: PublishedKey): Promise<VerifyingKey> {
  const spki = spkiOfPem(k.publicKeyPem);
  const schemes: Scheme[] = [];
  const ec = EC_CURVE[k.algorithm.slice(0, 10)];
  const imp = (alg: ImportParams) => crypto.subtle.importKey('spki', spki, alg, true, ['verify']);
  if (ec) {
    const key = await imp({ name: 'ECDSA', namedCurve: ec.curve });
    const hash = EC_HASH[k.algorithm] ?? 'SHA-256';
    schemes.push({ key, params: { name: 'ECDSA', hash }, signature: (s) => derToRawEcdsa(s, ec.size) });
  } else if (k.algorithm === 'ed25519') {
    schemes.push({ key: await imp({ name: 'Ed25519' }), params: { name: 'Ed25519' }, signature: (s) => s });
  } else if (k.algorithm.startsWith('rsa')) {
    const pkcs1 = await imp({ name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' });
    const pss = await imp({ name: 'RSA-PSS', hash: 'SHA-256' });
    const bits = (pss.algorithm as unknown as { modulusLength: number }).modulusLength;
    schemes.push({ key: pkcs1, params: { name: 'RSASSA-PKCS1-v1_5' }, signature: (s) => s });
    for (const saltLength of [32, Math.ceil((bits - 1) / 8) - 32 - 2])
      schemes.push({ key: pss, params: { name: 'RSA-PSS', saltLength }, signature: (s) => s });
  } else {
    throw new Error(`key ${k.keyId}: algorithm ${k.algorithm} cannot be checked in the browser`);
  }
  const jwk = await crypto.subtle.exportKey('jwk', schemes[0].key);
  return { published: k, computedKeyId: await keyIdOfJwk(jwk as Jwk), schemes };
}

/** Whether `sig` over `message` verifies under any of the key's schemes. */
export async function verifiesWith(
  key: VerifyingKey,
  message: Uint8Array<ArrayBuffer>,
  sig: Uint8Array<ArrayBuffer>,
): Promise<boolean> {
  for (const s of key.schemes) {
    const form = s.signature(sig);
    if (form && (await crypto.subtle.verify(s.params, s.key, form, message))) return true;
  }
  return false;
}
