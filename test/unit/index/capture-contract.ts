import { describe, expect, it } from 'vitest';
import { ObserverError } from '../../../src/errors.ts';
import type { RunCapture } from '../../../src/index/index.ts';
import type { IndexFactory } from './index-contract.ts';

const key = { kind: 'TaskRun' as const, namespace: 'tenant-a', name: 'build-1' };

function capture(uid: string, over: Partial<RunCapture> = {}): RunCapture {
  return {
    uid,
    run: key,
    object: { kind: 'TaskRun', metadata: { ...key, uid }, status: { note: `copy of ${uid}` } },
    capturedAt: new Date(1_000),
    ...over,
  };
}

/**
 * What every index promises about captured runs (run-captures.ts), on SQLite and PostgreSQL:
 * batches in one transaction, idempotent by uid, the unsettled copy found first, pruning only
 * copies of settled runs.
 */
export function captureContract(name: string, factory: IndexFactory): void {
  const open = async () => factory({ now: 1_000_000 });

  describe(`${name}: captured runs`, () => {
    it('stores a batch and reads the copy back by run key; the same uid again replaces it', async () => {
      const index = await open();
      await index.captureRuns([capture('u1'), capture('other', { run: { ...key, name: 'other' } })]);
      expect(await index.findCapturedRun(key)).toEqual(capture('u1'));
      const newer = capture('u1', { object: { v: 2 }, capturedAt: new Date(2_000) });
      await index.captureRuns([newer]);
      expect(await index.findCapturedRun(key)).toEqual(newer);
      expect(await index.findCapturedRun({ ...key, kind: 'PipelineRun' })).toBeUndefined();
      expect(await index.findCapturedRun({ ...key, namespace: 'tenant-b' })).toBeUndefined();
      // within one batch the last copy of a uid wins (one upsert may not touch a row twice)
      await index.captureRuns([capture('u1', { object: { v: 3 } }), capture('u1', { object: { v: 4 } })]);
      expect((await index.findCapturedRun(key))?.object).toEqual({ v: 4 });
      await index.captureRuns([]);
      await index.close();
    });

    it('a batch is all or nothing: one bad capture stores none and names the run', async () => {
      const index = await open();
      const bad = capture('', { run: { ...key, name: 'broken' } });
      const err = await index.captureRuns([capture('u1'), bad]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ObserverError);
      expect((err as ObserverError).code).toBe('input_invalid');
      expect((err as Error).message).toContain('TaskRun tenant-a/broken');
      expect(await index.findCapturedRun(key)).toBeUndefined();
      await index.close();
    });

    it('stores a 2,000-run batch in one call', async () => {
      const index = await open();
      const batch = Array.from({ length: 2_000 }, (_, i) =>
        capture(`u${i}`, { run: { ...key, name: `run-${i}` } }),
      );
      await index.captureRuns(batch);
      expect((await index.findCapturedRun({ ...key, name: 'run-1999' }))?.uid).toBe('u1999');
      await index.close();
    });

    it('of the uids a name had, finds an unsettled copy before a newer settled one', async () => {
      const index = await open();
      await index.captureRuns([capture('old', { capturedAt: new Date(1_000) })]);
      await index.captureRuns([capture('new', { capturedAt: new Date(2_000) })]);
      expect((await index.findCapturedRun(key))?.uid).toBe('new');
      const state = { run: key, attempts: 0, updatedAt: new Date(3_000) };
      await index.putRunRecord({ ...state, uid: 'new', status: 'attested' });
      expect((await index.findCapturedRun(key))?.uid).toBe('old');
      await index.putRunRecord({ ...state, uid: 'old', status: 'pending' });
      expect((await index.findCapturedRun(key))?.uid).toBe('old');
      await index.close();
    });

    it('lists the captured runs not settled, oldest capture first (the queue resumed at start)', async () => {
      const index = await open();
      const at = (ms: number, n: string) => ({ capturedAt: new Date(ms), run: { ...key, name: n } });
      await index.captureRuns([
        capture('b', at(2_000, 'b')),
        capture('a', at(1_000, 'a')),
        capture('c', at(3_000, 'c')),
      ]);
      const state = { run: key, attempts: 0, updatedAt: new Date(3_000) };
      await index.putRunRecord({ ...state, uid: 'a', status: 'pending' });
      await index.putRunRecord({ ...state, uid: 'c', status: 'attested' });
      expect(await index.unsettledCaptures()).toEqual([
        { uid: 'a', ...key, name: 'a' },
        { uid: 'b', ...key, name: 'b' },
      ]);
      expect(await index.unsettledCaptures(1)).toHaveLength(1);
      await index.close();
    });

    it('prunes copies of settled runs deleted (or captured) before the cut, and no others', async () => {
      const index = await open();
      const names = ['gone-attested', 'gone-failed', 'gone-pending', 'live-attested', 'old-attested'];
      await index.captureRuns(
        names.map((n) =>
          capture(n, { run: { ...key, name: n }, capturedAt: new Date(n.startsWith('old') ? 10 : 5_000) }),
        ),
      );
      const status = (n: string) =>
        n.endsWith('failed') ? 'failed' : n.endsWith('pending') ? 'pending' : 'attested';
      for (const n of names)
        await index.putRunRecord({
          uid: n,
          run: { ...key, name: n },
          status: status(n),
          attempts: 0,
          updatedAt: new Date(1),
        });
      for (const n of ['gone-attested', 'gone-failed', 'gone-pending'])
        await index.markRunDeleted(n, new Date(100));
      const cut = { deletedBefore: new Date(1_000), capturedBefore: new Date(1_000) };
      expect(await index.pruneCaptures(cut, 1)).toBe(1);
      expect(await index.pruneCaptures(cut)).toBe(2);
      expect(await index.pruneCaptures(cut)).toBe(0);
      const left = [];
      for (const n of names) if (await index.findCapturedRun({ ...key, name: n })) left.push(n);
      expect(left).toEqual(['gone-pending', 'live-attested']);
      await index.close();
    });

    it('pruning a deleted run removes its copy with its other records', async () => {
      const index = await open();
      await index.captureRuns([capture('u1')]);
      await index.markRunDeleted('u1', new Date(100));
      expect((await index.pruneDeletedRuns(new Date(1_000))).runs).toBe(1);
      expect(await index.findCapturedRun(key)).toBeUndefined();
      await index.close();
    });
  });
}
