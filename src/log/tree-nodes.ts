/**
 * Where a Merkle tree's hashes live: every complete (perfect, aligned) subtree is a node
 * `(level, index)` covering leaves [index·2^level, (index+1)·2^level). A log stores each node once,
 * when its last leaf arrives; it never changes after, so any tree head, inclusion or consistency
 * proof is a fold over O(log n) stored nodes (a range that is not a perfect subtree is folded from
 * the perfect ones it splits into). The functions here say which nodes, the folds live in
 * tree-proofs.ts. Sizes and indexes are safe integers (2^53 leaves).
 */
export interface NodeId {
  level: number;
  index: number;
}

export const nodeKey = (n: NodeId): string => `${n.level}/${n.index}`;

/** Largest power of two strictly below n (n ≥ 2): RFC 9162's split point k. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * The perfect subtrees [start, end) splits into, left to right (largest aligned first). For the
 * ranges RFC 9162's recursion produces (start aligned to a power of two ≥ end − start) their
 * right-to-left fold is MTH(D[start:end]).
 */
export function rangeNodes(start: number, end: number): NodeId[] {
  const nodes: NodeId[] = [];
  let at = start;
  while (at < end) {
    let size = 1;
    let level = 0;
    while (at % (size * 2) === 0 && at + size * 2 <= end) {
      size *= 2;
      level++;
    }
    nodes.push({ level, index: at / size });
    at += size;
  }
  return nodes;
}

/**
 * The nodes that become complete when leaf `index` is appended (the leaf itself first, then each
 * parent whose right child it completes), with the left siblings each needs (already stored).
 */
export function nodesCompletedBy(index: number): { node: NodeId; left?: NodeId }[] {
  const done: { node: NodeId; left?: NodeId }[] = [{ node: { level: 0, index } }];
  let level = 0;
  let i = index;
  while (i % 2 === 1) {
    done.push({ node: { level: level + 1, index: (i - 1) / 2 }, left: { level, index: i - 1 } });
    level++;
    i = (i - 1) / 2;
  }
  return done;
}
