import { HASH_BYTES, nodeHash } from './merkle-hash.ts';

/**
 * Proof verification as RFC 9162 §2.1.3.2 and §2.1.4.2 write it, step for step (so a reader can
 * hold one beside the other). Each returns a reason when the proof does not hold, undefined when
 * it does; never throws on malformed input. Divisions by two are arithmetic, not `>>` (sizes pass
 * 2^31).
 */
const half = (x: number): number => Math.floor(x / 2);
const lsb = (x: number): boolean => x % 2 === 1;
const sameHash = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0;
const badHash = (hashes: readonly Uint8Array[]): boolean => hashes.some((h) => h.length !== HASH_BYTES);

/** The root an inclusion proof leads to, or a reason it cannot lead anywhere. */
export function rootFromInclusion(
  index: number,
  size: number,
  leaf: Uint8Array,
  proof: readonly Uint8Array[],
): Buffer | string {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size)
    return `leaf index ${index} is not below tree size ${size}`;
  if (badHash([leaf, ...proof])) return 'a hash in the proof is not 32 bytes';
  let fn = index;
  let sn = size - 1;
  let r: Buffer = Buffer.from(leaf);
  for (const p of proof) {
    if (sn === 0) return 'the proof is longer than the tree is deep';
    if (lsb(fn) || fn === sn) {
      r = nodeHash(p, r);
      if (!lsb(fn))
        while (!(lsb(fn) || fn === 0)) {
          fn = half(fn);
          sn = half(sn);
        }
    } else r = nodeHash(r, p);
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) return 'the proof is shorter than the tree is deep';
  return r;
}

export function verifyInclusion(
  index: number,
  size: number,
  leaf: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): string | undefined {
  if (root.length !== HASH_BYTES) return 'the root is not 32 bytes';
  const r = rootFromInclusion(index, size, leaf, proof);
  if (typeof r === 'string') return r;
  return sameHash(r, root) ? undefined : 'the proof leads to another root';
}

export function verifyConsistency(
  size1: number,
  size2: number,
  root1: Uint8Array,
  root2: Uint8Array,
  proof: readonly Uint8Array[],
): string | undefined {
  if (!Number.isSafeInteger(size1) || !Number.isSafeInteger(size2) || size1 < 0 || size2 < size1)
    return `tree size ${size2} cannot follow ${size1}`;
  // the empty tree and equal sizes first, as transparency-dev/merkle's vectors expect; a caller
  // comparing with an empty checkpoint has nothing to check
  if (size1 === 0) return 'a consistency proof from the empty tree proves nothing';
  if (size1 === size2) {
    if (proof.length > 0) return 'a proof between equal sizes must be empty';
    return sameHash(root1, root2) ? undefined : 'two different roots for the same tree size';
  }
  if (badHash([root1, root2, ...proof])) return 'a hash is not 32 bytes';
  if (proof.length === 0) return 'the proof is empty';
  const path = isPow2(size1) ? [root1, ...proof] : [...proof];
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (lsb(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr: Buffer = Buffer.from(path[0] as Uint8Array);
  let sr: Buffer = Buffer.from(path[0] as Uint8Array);
  for (const c of path.slice(1)) {
    if (sn === 0) return 'the proof is longer than the trees are deep';
    if (lsb(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (!lsb(fn))
        while (!(lsb(fn) || fn === 0)) {
          fn = half(fn);
          sn = half(sn);
        }
    } else sr = nodeHash(sr, c);
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) return 'the proof is shorter than the trees are deep';
  if (!sameHash(fr, root1)) return `the proof does not lead to the first root (size ${size1})`;
  if (!sameHash(sr, root2)) return `the proof does not lead to the second root (size ${size2})`;
  return undefined;
}

function isPow2(n: number): boolean {
  let x = n;
  while (x > 1 && x % 2 === 0) x /= 2;
  return x === 1;
}
