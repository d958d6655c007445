import { nodeHash } from './merkle-hash.ts';
import { type NodeId, nodeKey, nodesCompletedBy } from './tree-nodes.ts';
import type { NodeReader } from './tree-proofs.ts';

export interface StoredNode extends NodeId {
  hash: Buffer;
}

/**
 * The nodes to store when `leaves` are appended to a tree of `size` leaves: each leaf and every
 * subtree it completes. Reads only the left siblings not made in this batch (at most one per
 * level: O(log n) for a batch), in one call.
 */
export async function nodesForAppend(
  read: NodeReader,
  size: number,
  leaves: readonly Uint8Array[],
): Promise<StoredNode[]> {
  const plans = leaves.map((_, i) => nodesCompletedBy(size + i));
  const made = new Set(plans.flatMap((p) => p.map((s) => nodeKey(s.node))));
  const wanted = plans.flatMap((p) =>
    p.flatMap((s) => (s.left && !made.has(nodeKey(s.left)) ? [s.left] : [])),
  );
  const known = new Map<string, Uint8Array>(wanted.length ? await read(wanted) : []);
  const out: StoredNode[] = [];
  plans.forEach((plan, i) => {
    for (const { node, left } of plan) {
      let hash: Buffer;
      if (!left) hash = Buffer.from(leaves[i] as Uint8Array);
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

  readonly read: NodeReader = async (ids) => {
    const out = new Map<string, Uint8Array>();
    for (const id of ids) {
      const h = this.nodes.get(nodeKey(id));
      if (h) out.set(nodeKey(id), h);
    }
    return out;
  };

  async append(leaves: readonly Uint8Array[]): Promise<void> {
    for (const n of await nodesForAppend(this.read, this.size, leaves)) this.nodes.set(nodeKey(n), n.hash);
    this.size += leaves.length;
  }
}
