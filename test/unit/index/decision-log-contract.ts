import { describe, expect, it } from 'vitest';
import type { AttestationIndex } from '../../../src/index/index.ts';
import {
  consistencyProof,
  type DecisionEntry,
  entryLeafHash,
  inclusionProof,
  MemoryTree,
  treeRoot,
  verifyConsistency,
  verifyInclusion,
} from '../../../src/log/index.ts';
import type { RunRecord } from '../../../src/model/index.ts';
import type { IndexFactory } from './index-contract.ts';

const refused = (uid: string, namespace = 'tenant-a'): DecisionEntry => ({
  v: 1,
  type: 'refused',
  run: { uid, kind: 'TaskRun', namespace, name: `build-${uid}` },
  reason: 'gave up',
  at: '2026-12-05T00:00:00.000Z',
});

const record = (uid: string): RunRecord => ({
  uid,
  run: { kind: 'TaskRun', namespace: 'tenant-a', name: `build-${uid}` },
  status: 'failed',
  attempts: 1,
  updatedAt: new Date(1_000_000),
});

/** What every index's decision log promises (SQLite in unit, PostgreSQL in integration). */
export function decisionLogContract(name: string, factory: IndexFactory): void {
  const open = async (): Promise<AttestationIndex> => factory({ now: 1_000_000 });

  describe(`${name}: decision log`, () => {
    it('appends entries in order, once per key, with the tree an independent in-memory tree has', async () => {
      const index = await open();
      const entries = Array.from({ length: 21 }, (_, i) => refused(`u${i}`));
      expect(await index.appendDecisions(entries.slice(0, 5))).toEqual([0, 1, 2, 3, 4]);
      expect(await index.appendDecisions([entries[2] as DecisionEntry])).toEqual([2]);
      for (const e of entries.slice(5)) await index.appendDecisions([e, e]);
      expect(await index.logSize()).toBe(21);
      const mirror = new MemoryTree();
      await mirror.append(entries.map(entryLeafHash));
      const read = (ids: Parameters<AttestationIndex['logNodes']>[0]) => index.logNodes(ids);
      for (const size of [1, 2, 7, 8, 21])
        expect((await treeRoot(read, size)).equals(await treeRoot(mirror.read, size)), `size ${size}`).toBe(
          true,
        );
      const root = await treeRoot(read, 21);
      const proof = await inclusionProof(read, 13, 21);
      expect(
        verifyInclusion(13, 21, entryLeafHash(entries[13] as DecisionEntry), proof, root),
      ).toBeUndefined();
      const c = await consistencyProof(read, 8, 21);
      expect(verifyConsistency(8, 21, await treeRoot(read, 8), root, c)).toBeUndefined();
      const [e13] = await index.logEntries(13, 14);
      expect(e13).toMatchObject({ seq: 13, runUid: 'u13', namespace: 'tenant-a', type: 'refused' });
      expect(JSON.parse(e13?.entry ?? '')).toEqual(entries[13]);
      expect((await index.findLogEntry('refused:u4'))?.seq).toBe(4);
      expect((await index.logEntriesOfRun('u20')).map((e) => e.seq)).toEqual([20]);
      await index.close();
    });

    it('logs a decision with the fenced run record, and not at all when the fence has moved on', async () => {
      const index = await open();
      const claim = await index.claimRun('r1', 'replica-a', 60_000);
      if (!claim.held) throw new Error('claim not held');
      const stale = { owner: 'replica-b', fence: claim.fence };
      expect(await index.putRunRecord(record('r1'), stale, [refused('r1')])).toBe(false);
      expect(await index.logSize()).toBe(0);
      expect(await index.getRunRecord('r1')).toBeUndefined();
      const fence = { owner: 'replica-a', fence: claim.fence };
      expect(await index.putRunRecord(record('r1'), fence, [refused('r1')])).toBe(true);
      expect(await index.putRunRecord(record('r1'), fence, [refused('r1')])).toBe(true);
      expect(await index.logSize()).toBe(1);
      expect((await index.logEntriesOfRun('r1')).map((e) => e.type)).toEqual(['refused']);
      await index.close();
    });

    it('keeps a pruned run leaf hash and place, not its entry', async () => {
      const index = await open();
      await index.putRunRecord(record('p1'), undefined, [refused('p1')]);
      await index.appendDecisions([refused('p2')]);
      await index.markRunDeleted('p1', new Date(0));
      await index.pruneDeletedRuns(new Date(10));
      const [p1, p2] = await index.logEntries(0, 2);
      expect(p1?.entry).toBeUndefined();
      expect(p1?.leafHash.equals(entryLeafHash(refused('p1')))).toBe(true);
      expect(p2?.entry).toBeDefined();
      await index.close();
    });

    it('keeps signed checkpoints, newest first, the first of a size', async () => {
      const index = await open();
      await index.putCheckpoint({ size: 1, note: 'one', createdAt: new Date(1) });
      await index.putCheckpoint({ size: 2, note: 'two', createdAt: new Date(2) });
      await index.putCheckpoint({ size: 2, note: 'again', createdAt: new Date(3) });
      expect((await index.checkpoints(5)).map((c) => c.note)).toEqual(['two', 'one']);
      await index.close();
    });
  });
}
