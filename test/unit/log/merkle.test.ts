import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  consistencyProof,
  emptyRoot,
  inclusionProof,
  leafHash,
  MemoryTree,
  treeRoot,
  verifyConsistency,
  verifyInclusion,
} from '../../../src/log/index.ts';

/** RFC 6962 vectors as transparency-dev/merkle publishes them (source noted in the file). */
const vectors = JSON.parse(
  readFileSync(new URL('../../fixtures/merkle/rfc6962-vectors.json', import.meta.url), 'utf8'),
) as {
  leafInputsHex: string[];
  rootHashesHex: string[];
  inclusion: {
    file: string;
    leafIdx: number;
    treeSize: number;
    root: string;
    leafHash: string;
    proof: string[] | null;
    wantErr: boolean;
  }[];
  consistency: {
    file: string;
    size1: number;
    size2: number;
    root1: string;
    root2: string;
    proof: string[] | null;
    wantErr: boolean;
  }[];
};
const b64 = (s: string | null | undefined): Buffer => Buffer.from(s ?? '', 'base64');

async function treeOf(leaves: readonly Uint8Array[]): Promise<MemoryTree> {
  const tree = new MemoryTree();
  // appended in uneven batches so batch boundaries are exercised
  for (let i = 0; i < leaves.length; ) {
    const n = Math.min(leaves.length - i, (i % 3) + 1);
    await tree.append(leaves.slice(i, i + n).map((l) => leafHash(l)));
    i += n;
  }
  return tree;
}

describe('Merkle tree against the RFC 6962 test tree', () => {
  const leaves = vectors.leafInputsHex.map((h) => Buffer.from(h, 'hex'));

  it('has every published root, sizes 0 to 8', async () => {
    for (let n = 0; n <= leaves.length; n++) {
      const tree = await treeOf(leaves.slice(0, n));
      expect((await treeRoot(tree.read, n)).toString('hex'), `size ${n}`).toBe(vectors.rootHashesHex[n]);
    }
    expect(emptyRoot().toString('hex')).toBe(vectors.rootHashesHex[0]);
  });

  it.each(vectors.inclusion.map((v) => [v.file, v] as const))('inclusion %s', (_file, v) => {
    const error = verifyInclusion(
      v.leafIdx,
      v.treeSize,
      b64(v.leafHash),
      (v.proof ?? []).map(b64),
      b64(v.root),
    );
    expect(error === undefined).toBe(!v.wantErr);
  });

  it.each(vectors.consistency.map((v) => [v.file, v] as const))('consistency %s', (_file, v) => {
    const error = verifyConsistency(v.size1, v.size2, b64(v.root1), b64(v.root2), (v.proof ?? []).map(b64));
    expect(error === undefined).toBe(!v.wantErr);
  });

  it('generates the published happy-path proofs', async () => {
    const tree = await treeOf(leaves);
    for (const v of vectors.inclusion.filter((x) => x.file.endsWith('happy-path.json'))) {
      const proof = await inclusionProof(tree.read, v.leafIdx, v.treeSize);
      expect(proof.map((p) => p.toString('base64'))).toEqual(v.proof ?? []);
    }
    for (const v of vectors.consistency.filter((x) => x.file.endsWith('happy-path.json'))) {
      const proof = await consistencyProof(tree.read, v.size1, v.size2);
      expect(proof.map((p) => p.toString('base64'))).toEqual(v.proof ?? []);
    }
  });
});

describe('Merkle tree against the independent Python reference (test/helpers/merkle_reference.py)', () => {
  it('agrees on every root and every proof of trees up to 33 leaves, and its proofs verify', async () => {
    const leaves = Array.from({ length: 33 }, (_, i) => Buffer.from(`leaf ${i} ${'x'.repeat(i)}`));
    const tree = await treeOf(leaves);
    const hex = (p: Buffer[]): string[] => p.map((h) => h.toString('hex'));
    const inclusion: [number, number, string[]][] = [];
    const consistency: [number, number, string[]][] = [];
    const roots: Buffer[] = [];
    for (let n = 0; n <= leaves.length; n++) roots.push(await treeRoot(tree.read, n));
    for (let n = 1; n <= leaves.length; n++)
      for (let m = 0; m <= n; m++) {
        if (m < n) {
          const proof = await inclusionProof(tree.read, m, n);
          expect(
            verifyInclusion(m, n, leafHash(leaves[m] as Buffer), proof, roots[n] as Buffer),
          ).toBeUndefined();
          inclusion.push([m, n, hex(proof)]);
        }
        const proof = await consistencyProof(tree.read, m, n);
        if (m > 0)
          expect(
            verifyConsistency(m, n, roots[m] as Buffer, roots[n] as Buffer, proof),
            `${m}→${n}`,
          ).toBeUndefined();
        consistency.push([m, n, hex(proof)]);
      }
    const answer = JSON.parse(
      execFileSync('python3', [new URL('../../helpers/merkle_reference.py', import.meta.url).pathname], {
        input: JSON.stringify({ leaves: leaves.map((l) => l.toString('hex')), inclusion, consistency }),
        maxBuffer: 64 << 20,
      }).toString(),
    ) as { roots: string[]; inclusion: boolean[]; consistency: boolean[] };
    expect(answer.roots).toEqual(hex(roots));
    expect(answer.inclusion.every(Boolean)).toBe(true);
    expect(answer.inclusion).toHaveLength(inclusion.length);
    expect(answer.consistency.every(Boolean)).toBe(true);
  });

  it('rejects a proof with one flipped bit and a proof for the wrong leaf', async () => {
    const leaves = Array.from({ length: 13 }, (_, i) => Buffer.of(i));
    const tree = await treeOf(leaves);
    const root = await treeRoot(tree.read, 13);
    const proof = await inclusionProof(tree.read, 5, 13);
    (proof[1] as Buffer)[0] ^= 1;
    expect(verifyInclusion(5, 13, leafHash(leaves[5] as Buffer), proof, root)).toMatch(/another root/);
    const good = await inclusionProof(tree.read, 5, 13);
    expect(verifyInclusion(5, 13, leafHash(leaves[6] as Buffer), good, root)).toMatch(/another root/);
    const old = await treeRoot(tree.read, 7);
    const c = await consistencyProof(tree.read, 7, 13);
    expect(verifyConsistency(7, 13, old, root, c)).toBeUndefined();
    expect(verifyConsistency(7, 13, await treeRoot(tree.read, 6), root, c)).toMatch(/first root/);
  });
});
