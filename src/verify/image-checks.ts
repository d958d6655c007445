import { createPublicKey, verify } from 'node:crypto';
import type { Descriptor } from '../oci/index.ts';
import { sha256Digest } from '../oci/index.ts';
import { verifyEnvelope } from './envelope.ts';

/** One line of a verification report. */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/** Layer blob integrity: the digest the manifest names is sha256 of the bytes served. */
export function checkBlobDigest(name: string, layer: Descriptor, bytes: Uint8Array): Check {
  const actual = sha256Digest(bytes);
  const ok = actual === layer.digest && bytes.length === layer.size;
  return {
    name,
    ok,
    detail: ok
      ? layer.digest
      : `manifest says ${layer.digest} (${layer.size} B), blob is ${actual} (${bytes.length} B)`,
  };
}

/** Checks of one attestation layer: DSSE signature, subject digest, predicate type. */
export function checkAttestation(
  prefix: string,
  envelopeBytes: Uint8Array,
  imageDigest: string,
  publicKeyPem: string,
  predicateType?: string,
): Check[] {
  const verdict = verifyEnvelope(envelopeBytes, publicKeyPem);
  const checks: Check[] = [
    {
      name: `${prefix} DSSE signature`,
      ok: verdict.ok,
      detail: verdict.ok ? `verified by ${verdict.keyId}` : verdict.reason,
    },
  ];
  let statement: { subject?: { digest?: Record<string, string> }[]; predicateType?: string } | undefined;
  try {
    const env = JSON.parse(Buffer.from(envelopeBytes).toString('utf8')) as { payload: string };
    statement = JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8'));
  } catch {
    checks.push({ name: `${prefix} statement`, ok: false, detail: 'payload is not a JSON statement' });
    return checks;
  }
  const hex = imageDigest.slice('sha256:'.length);
  const subjects = statement?.subject ?? [];
  const matches = subjects.some((s) => s.digest?.sha256 === hex);
  checks.push({
    name: `${prefix} subject`,
    ok: matches,
    detail: matches
      ? `a subject has digest ${imageDigest}`
      : `no subject of ${subjects.length} has digest ${imageDigest}`,
  });
  const type = statement?.predicateType ?? '';
  const typeOk = predicateType ? type === predicateType : type.length > 0;
  checks.push({
    name: `${prefix} predicateType`,
    ok: typeOk,
    detail: predicateType && !typeOk ? `${type}, expected ${predicateType}` : type || 'missing',
  });
  return checks;
}

/** Checks of one `.sig` layer: the simplesigning payload names the image, and the signature over it verifies. */
export function checkSimpleSigning(
  prefix: string,
  layer: Descriptor,
  payload: Uint8Array,
  imageDigest: string,
  /** the layer's signature must verify with one of these (a tenant's `.sig` beside the platform's) */
  publicKeyPem: string | readonly string[],
): Check[] {
  let named: string | undefined;
  try {
    named = (
      JSON.parse(Buffer.from(payload).toString('utf8')) as {
        critical?: { image?: { 'docker-manifest-digest'?: string } };
      }
    ).critical?.image?.['docker-manifest-digest'];
  } catch {
    named = undefined;
  }
  const sig = layer.annotations?.['dev.cosignproject.cosign/signature'] ?? '';
  const keys = typeof publicKeyPem === 'string' ? [publicKeyPem] : publicKeyPem;
  const ok = sig !== '' && keys.some((k) => verifyRaw(payload, Buffer.from(sig, 'base64'), k));
  return [
    {
      name: `${prefix} docker-manifest-digest`,
      ok: named === imageDigest,
      detail:
        named === imageDigest ? imageDigest : `payload names ${named ?? 'nothing'}, image is ${imageDigest}`,
    },
    {
      name: `${prefix} signature`,
      ok,
      detail: ok ? 'verified' : sig ? 'signature does not verify with the key' : 'no signature annotation',
    },
  ];
}

/** cosign's raw signature schemes: SHA-256 for ECDSA and RSA PKCS#1 v1.5, pure Ed25519. */
function verifyRaw(data: Uint8Array, signature: Uint8Array, publicKeyPem: string): boolean {
  try {
    const key = createPublicKey(publicKeyPem);
    return verify(key.asymmetricKeyType === 'ed25519' ? null : 'sha256', data, key, signature);
  } catch {
    return false;
  }
}
