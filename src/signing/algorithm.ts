import type { KeyObject } from 'node:crypto';
import type { KeyAlgorithm } from './signer.ts';

/**
 * The signature scheme for each key type, and the `crypto.sign`/`crypto.verify` digest it needs.
 *
 * ECDSA keys get the hash cosign's `LoadDefaultSignerVerifier` picks for the curve (what Chains
 * signs with for `cosign.key`), except that keys from `x509.pem` always use SHA-256 as Chains'
 * x509 signer does (`ecdsa-p384-sha256`, `ecdsa-p521-sha256`). Ed25519 is pure Ed25519 (not
 * Ed25519ph): see docs/keys.md for why. RSA is PKCS#1 v1.5 with SHA-256, any modulus size.
 */
export interface SchemeParams {
  /** digest for crypto.sign/verify; null for Ed25519, which hashes internally */
  digest: 'sha256' | 'sha384' | 'sha512' | null;
}

export function schemeParams(algorithm: KeyAlgorithm): SchemeParams {
  switch (algorithm) {
    case 'ecdsa-p256-sha256':
    case 'ecdsa-p384-sha256':
    case 'ecdsa-p521-sha256':
    case 'rsa-pkcs1v15-sha256':
    case 'rsa-pss-sha256':
      return { digest: 'sha256' };
    case 'ecdsa-p384-sha384':
      return { digest: 'sha384' };
    case 'ecdsa-p521-sha512':
      return { digest: 'sha512' };
    case 'ed25519':
      return { digest: null };
  }
}

/** Which hash policy a key source follows (see above). */
export type HashPolicy = 'cosign-default' | 'sha256';

/**
 * The algorithm a key signs with, or a reason it is unsupported (never key bytes).
 * Accepts private or public KeyObjects.
 */
export function algorithmOf(key: KeyObject, policy: HashPolicy): KeyAlgorithm | { unsupported: string } {
  const type = key.asymmetricKeyType;
  switch (type) {
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      if (curve === 'prime256v1') return 'ecdsa-p256-sha256';
      if (curve === 'secp384r1') return policy === 'sha256' ? 'ecdsa-p384-sha256' : 'ecdsa-p384-sha384';
      if (curve === 'secp521r1') return policy === 'sha256' ? 'ecdsa-p521-sha256' : 'ecdsa-p521-sha512';
      return { unsupported: `unsupported ECDSA curve ${curve ?? 'unknown'} (want P-256, P-384 or P-521)` };
    }
    case 'ed25519':
      return 'ed25519';
    case 'rsa':
      return 'rsa-pkcs1v15-sha256';
    default:
      return { unsupported: `unsupported key type ${type ?? 'unknown'} (want ECDSA, Ed25519 or RSA)` };
  }
}
