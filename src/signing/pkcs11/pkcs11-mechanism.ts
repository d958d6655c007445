import { createHash } from 'node:crypto';
import type { KeyAlgorithm } from '../signer.ts';

/**
 * How one signature is asked of the token. The observer hashes the data itself (the data is the
 * public statement; only the key is secret) and sends the digest to C_Sign with the raw mechanism:
 * CKM_ECDSA (returns r‖s, converted here to the DER cosign and openssl expect), CKM_RSA_PKCS over
 * a DigestInfo (PKCS#1 v1.5), CKM_RSA_PKCS_PSS (salt = hash length, MGF1 with the same hash).
 * Ed25519 (CKM_EDDSA) hashes internally, so it gets the whole message. Sending digests keeps
 * the bytes on the token's wire short and works on HSMs without the hash-and-sign mechanisms.
 * Numbers are the PKCS#11 v2.40/v3.0 constants (pkcs11t.h).
 */
export interface SignPlan {
  /** what goes to C_Sign */
  input: Buffer;
  mechanism: { mechanism: number; parameter?: PssParams };
  /** turns what C_Sign returned into the signature we publish */
  finish: (raw: Buffer) => Buffer;
  /** output buffer size for C_Sign */
  maxLength: number;
}

export interface PssParams {
  hashAlg: number;
  mgf: number;
  saltLen: number;
  type: number;
}

export const CKM = {
  RSA_PKCS: 0x1,
  RSA_PKCS_PSS: 0xd,
  ECDSA: 0x1041,
  EDDSA: 0x1057,
  SHA256: 0x250,
  SHA384: 0x260,
  SHA512: 0x270,
} as const;
const CKG_MGF1 = { sha256: 0x2, sha384: 0x3, sha512: 0x4 } as const;
/** pkcs11js' parameter type tag for CK_RSA_PKCS_PSS_PARAMS (its CK_PARAMS_RSA_PSS) */
const CK_PARAMS_RSA_PSS = 5;

/** DER DigestInfo prefixes (RFC 8017 §9.2 note 1). */
const DIGEST_INFO: Record<'sha256' | 'sha384' | 'sha512', string> = {
  sha256: '3031300d060960864801650304020105000420',
  sha384: '3041300d060960864801650304020205000430',
  sha512: '3051300d060960864801650304020305000440',
};

/** The plan for signing `data` with a token key of `algorithm`; `modulusBytes` for RSA. */
export function signPlan(algorithm: KeyAlgorithm, data: Uint8Array, modulusBytes = 512): SignPlan {
  switch (algorithm) {
    case 'ed25519':
      return {
        input: Buffer.from(data),
        mechanism: { mechanism: CKM.EDDSA },
        finish: (r) => r,
        maxLength: 64,
      };
    case 'rsa-pkcs1v15-sha256': {
      const input = Buffer.concat([Buffer.from(DIGEST_INFO.sha256, 'hex'), digest('sha256', data)]);
      return { input, mechanism: { mechanism: CKM.RSA_PKCS }, finish: (r) => r, maxLength: modulusBytes };
    }
    case 'rsa-pss-sha256':
      return {
        input: digest('sha256', data),
        mechanism: {
          mechanism: CKM.RSA_PKCS_PSS,
          parameter: { hashAlg: CKM.SHA256, mgf: CKG_MGF1.sha256, saltLen: 32, type: CK_PARAMS_RSA_PSS },
        },
        finish: (r) => r,
        maxLength: modulusBytes,
      };
    case 'ecdsa-p256-sha256':
    case 'ecdsa-p384-sha256':
    case 'ecdsa-p521-sha256':
      return ecdsa(digest('sha256', data));
    case 'ecdsa-p384-sha384':
      return ecdsa(digest('sha384', data));
    case 'ecdsa-p521-sha512':
      return ecdsa(digest('sha512', data));
  }
}

function digest(name: 'sha256' | 'sha384' | 'sha512', data: Uint8Array): Buffer {
  return createHash(name).update(data).digest();
}

function ecdsa(hash: Buffer): SignPlan {
  return { input: hash, mechanism: { mechanism: CKM.ECDSA }, finish: ecdsaRawToDer, maxLength: 132 };
}

/** r‖s (each half the length) → DER SEQUENCE { INTEGER r, INTEGER s } (RFC 3279 §2.2.3). */
export function ecdsaRawToDer(raw: Buffer): Buffer {
  if (raw.length === 0 || raw.length % 2 !== 0) throw new Error(`ECDSA signature of ${raw.length} bytes`);
  const half = raw.length / 2;
  const body = Buffer.concat([derInteger(raw.subarray(0, half)), derInteger(raw.subarray(half))]);
  return Buffer.concat([Buffer.from([0x30]), derLength(body.length), body]);
}

function derInteger(unsigned: Buffer): Buffer {
  let start = 0;
  while (start < unsigned.length - 1 && unsigned[start] === 0) start++;
  let value = unsigned.subarray(start);
  if ((value[0] ?? 0) & 0x80) value = Buffer.concat([Buffer.from([0]), value]);
  return Buffer.concat([Buffer.from([0x02]), derLength(value.length), value]);
}

function derLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  if (length < 0x100) return Buffer.from([0x81, length]);
  return Buffer.from([0x82, length >> 8, length & 0xff]);
}
