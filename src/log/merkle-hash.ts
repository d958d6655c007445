import { createHash } from 'node:crypto';

/**
 * RFC 6962 §2.1 / RFC 9162 §2.1.1 hashing with SHA-256 and domain separation: a leaf is hashed
 * with a 0x00 prefix, an interior node with 0x01, so no leaf can pose as a node (second-preimage).
 * https://www.rfc-editor.org/rfc/rfc9162#section-2.1.1
 */
export const HASH_BYTES = 32;

/** MTH({d}) = SHA-256(0x00 || d) */
export function leafHash(data: Uint8Array): Buffer {
  return createHash('sha256').update(Buffer.of(0)).update(data).digest();
}

/** MTH(D[n]) = SHA-256(0x01 || left || right) */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash('sha256').update(Buffer.of(1)).update(left).update(right).digest();
}

/** MTH({}) = SHA-256() : the root of the empty tree */
export function emptyRoot(): Buffer {
  return createHash('sha256').digest();
}
