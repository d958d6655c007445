import { emptyRoot, nodeHash } from './merkle-hash.ts';
import { type NodeId, nodeKey, rangeNodes, splitPoint } from './tree-nodes.ts';

/**
 * Tree heads and proofs (RFC 9162 §2.1.2–2.1.4) over stored complete-subtree nodes: each is first
 * planned as the leaf ranges whose MTH it needs, then the nodes of those ranges are read in one
 * batch (`NodeReader`) and folded. O(log n) ranges, each of O(log n) nodes.
 * https://www.rfc-editor.org/rfc/rfc9162#section-2.1
 */
export type Range = readonly [start: number, end: number];

/** Reads the stored hashes of these nodes, keyed by nodeKey; a missing node is an error of the caller's store. */
export type NodeReader = (nodes: readonly NodeId[]) => Promise<ReadonlyMap<string, Uint8Array>>;

/** PATH(m, D[n]): the ranges of an inclusion proof of leaf m in a tree of n leaves, in proof order. */
export function inclusionRanges(m: number, n: number): Range[] {
  if (!(m >= 0 && m < n)) throw new RangeError(`leaf ${m} is not in a tree of ${n}`);
  const out: Range[] = [];
  const walk = (lo: number, hi: number): void => {
    if (hi - lo === 1) return;
    const k = splitPoint(hi - lo);
    if (m - lo < k) {
      walk(lo, lo + k);
      out.push([lo + k, hi]);
    } else {
      walk(lo + k, hi);
      out.push([lo, lo + k]);
    }
  };
  walk(0, n);
  return out;
}

/** PROOF(m, D[n]) = SUBPROOF(m, D[n], true): the ranges of a consistency proof, in proof order. */
export function consistencyRanges(m: number, n: number): Range[] {
  if (!(m >= 0 && m <= n)) throw new RangeError(`no consistency proof from ${m} to ${n}`);
  const out: Range[] = [];
  if (m === 0 || m === n) return out;
  const walk = (size: number, lo: number, hi: number, complete: boolean): void => {
    if (size === hi - lo) {
      if (!complete) out.push([lo, hi]);
      return;
    }
    const k = splitPoint(hi - lo);
    if (size <= k) {
      walk(size, lo, lo + k, complete);
      out.push([lo + k, hi]);
    } else {
      walk(size - k, lo + k, hi, false);
      out.push([lo, lo + k]);
    }
  };
  walk(m, 0, n, true);
  return out;
}

/** The hashes of these ranges, read in one batch. */
export async function rangeHashes(read: NodeReader, ranges: readonly Range[]): Promise<Buffer[]> {
  const plans = ranges.map(([s, e]) => rangeNodes(s, e));
  const wanted = new Map<string, NodeId>();
  for (const p of plans) for (const n of p) wanted.set(nodeKey(n), n);
  const found = await read([...wanted.values()]);
  return plans.map((p) => {
    let h: Uint8Array | undefined;
    for (let i = p.length - 1; i >= 0; i--) {
      const key = nodeKey(p[i] as NodeId);
      const node = found.get(key);
      if (!node) throw new Error(`the log's node ${key} is missing`);
      h = h === undefined ? node : nodeHash(node, h);
    }
    return Buffer.from(h as Uint8Array);
  });
}

export async function treeRoot(read: NodeReader, size: number): Promise<Buffer> {
  if (size === 0) return emptyRoot();
  return (await rangeHashes(read, [[0, size]]))[0] as Buffer;
}

export function inclusionProof(read: NodeReader, index: number, size: number): Promise<Buffer[]> {
  return rangeHashes(read, inclusionRanges(index, size));
}

export function consistencyProof(read: NodeReader, from: number, to: number): Promise<Buffer[]> {
  return rangeHashes(read, consistencyRanges(from, to));
}
