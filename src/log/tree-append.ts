import { nodeHash } from './merkle-hash.ts';
import { type NodeId, nodeKey, nodesCompletedBy } from './tree-nodes.ts';
import type { NodeReader } from './tree-proofs.ts';

export interface StoredNode extends NodeId {
  hash: Buffer;
}

/**
 * The stored nodes an append of `count` leaves to a tree of `size` leaves needs: the left
 * siblings of the subtrees it completes that the batch does not make itself (at most one per
 * level: O(log n)).
 */
export function appendNeeds(size: number, count: number): NodeId[] {
  const plans = Array.from({ length: count }, (_, i) => nodesCompletedBy(size + i));
  const made = new Set(plans.flatMap((p) => p.map((s) => nodeKey(s.node))));
  return plans.flatMap((p) => p.flatMap((s) => (s.left && !made.has(nodeKey(s.left)) ? [s.left] : [])));
}

/**
 * The nodes to store when `leaves` (leaf hashes) are appended to a tree of `size` leaves: each
 * leaf and every subtree it completes, given the nodes `appendNeeds` named (synchronous, so a
 * store can run it inside its write transaction).
 */
export function appendNodes(
  size: number,
  leaves: readonly Uint8Array[],
  needed: ReadonlyMap<string, Uint8Array>,
): StoredNode[] {
  const known = new Map(needed);
  const out: StoredNode[] = [];
  leaves.forEach((leaf, i) => {
    for (const { node, left } of nodesCompletedBy(size + i)) {
      let hash: Buffer;
      if (!left) hash = Buffer.from(leaf);
      else {
        const l = known.get(nodeKey(left));
        const r = known.get(nodeKey({ level: node.level - 1, index: node.index * 2 + 1 }));
        if (!l || !r) throw new Error(`the log's node ${nodeKey(left)} is missing`);
        hash = nodeHash(l, r);
      }
      known.set(nodeKey(node), hash);
      out.push({ ...node, hash });
    }
  });
  return out;
}

/** A tree held in memory (tests, benchmarks, an auditor's recomputation): nodes by key. */
export class MemoryTree {
  readonly nodes = new Map<string, Uint8Array>();
  size = 0;

  readonly read: NodeReader = async (ids) => this.readSync(ids);

  readSync(ids: readonly NodeId[]): Map<string, Uint8Array> {
    const out = new Map<string, Uint8Array>();
    for (const id of ids) {
      const h = this.nodes.get(nodeKey(id));
      if (h) out.set(nodeKey(id), h);
    }
    return out;
  }

  async append(leaves: readonly Uint8Array[]): Promise<void> {
    this.appendSync(leaves);
  }

  appendSync(leaves: readonly Uint8Array[]): void {
    const needed = this.readSync(appendNeeds(this.size, leaves.length));
    for (const n of appendNodes(this.size, leaves, needed)) this.nodes.set(nodeKey(n), n.hash);
    this.size += leaves.length;
  }
}
