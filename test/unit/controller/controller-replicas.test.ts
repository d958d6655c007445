import { describe, expect, it } from 'vitest';
import { Controller, type RunObservation } from '../../../src/controller/index.ts';
import { SqliteIndex } from '../../../src/index/index.ts';
import { createMetrics } from '../../../src/observability/index.ts';
import { FakeSource, silentLogger } from '../fakes.ts';

const obs = (over: Partial<RunObservation> = {}): RunObservation => ({
  key: { kind: 'TaskRun', namespace: 'ns', name: 'a' },
  uid: 'uid-a',
  done: true,
  annotations: {},
  origin: 'live',
  ...over,
});

/** Polls observable state with a 1 s deadline (the workers run on their own promise chains). */
const until = async (cond: () => boolean) => {
  // a poll interval, not a wait for state: the loop ends as soon as cond() holds
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).toBe(true);
};

/**
 * A replica that found the run's claim held by another, and then saw that replica's mark on the
 * watch before its index record: `waitingForClaim` says whether the reconciler answered "another
 * replica holds the claim" (true) or asked for a plain retry (false).
 */
async function afterAnotherReplicasMark(waitingForClaim: boolean, markFirst: boolean): Promise<number> {
  const index = new SqliteIndex({ path: ':memory:' });
  const source = new FakeSource();
  let reconciles = 0;
  const controller = new Controller({
    source,
    index,
    reconciler: {
      reconcile: async () => {
        reconciles++;
        return { requeueAfterMs: 300, ...(waitingForClaim ? { waitingForClaim } : {}) };
      },
    },
    metrics: createMetrics(),
    logger: silentLogger(),
    workers: 1,
  });
  await controller.start();
  source.observe(obs());
  await until(() => reconciles === 1);
  const record = () =>
    index.putRunRecord({
      uid: 'uid-a',
      run: obs().key,
      status: 'attested',
      attempts: 0,
      updatedAt: new Date(),
    });
  // the other replica's mark and its record, in either order, while this replica's key waits
  if (!markFirst) await record();
  source.observe(obs({ annotations: { 'chains.tekton.dev/signed': 'true' }, resourceVersion: '2' }));
  await new Promise((r) => setTimeout(r, 50)); // the sighting is handled (in-memory index)
  if (markFirst) await record();
  await new Promise((r) => setTimeout(r, 450)); // the 300 ms requeue has fired by then
  await controller.stop();
  return reconciles;
}

/** The SQLite index dressed as one replicas share (it answers capturedVersions), as PostgreSQL is. */
function sharedIndex(index: SqliteIndex) {
  return {
    getRunRecord: (uid: string) => index.getRunRecord(uid),
    getRunWork: (uid: string) => index.getRunWork(uid),
    captureRuns: (c: Parameters<SqliteIndex['captureRuns']>[0]) => index.captureRuns(c),
    unsettledCaptures: () => index.unsettledCaptures(),
    markRunDeleted: (uid: string, at: Date) => index.markRunDeleted(uid, at),
    capturedVersions: async () => new Map(),
  };
}

describe('Controller with replicas', () => {
  it('a run another replica is attempting waits out that claim before its reconcile here', async () => {
    const index = new SqliteIndex({ path: ':memory:' });
    const source = new FakeSource();
    const reconciledAt: number[] = [];
    const controller = new Controller({
      source,
      index: sharedIndex(index),
      claimOwner: 'me',
      reconciler: {
        reconcile: async () => {
          reconciledAt.push(Date.now());
          return {};
        },
      },
      metrics: createMetrics(),
      logger: silentLogger(),
      workers: 1,
    });
    await controller.start();
    const start = Date.now();
    expect((await index.claimRun('uid-a', 'other', 400)).held).toBe(true);
    source.observe(obs());
    await until(() => reconciledAt.length === 1);
    expect(reconciledAt[0] - start).toBeGreaterThanOrEqual(350); // not before the other's lease ran out
    // this replica's own claim (a lapsed release) is no reason to wait
    expect((await index.claimRun('uid-b', 'me', 60_000)).held).toBe(true);
    source.observe(obs({ key: { kind: 'TaskRun', namespace: 'ns', name: 'b' }, uid: 'uid-b' }));
    await until(() => reconciledAt.length === 2);
    await controller.stop();
  });

  it('a key back from waiting on another replica asks the index first: settled and marked, no reconcile', async () => {
    expect(await afterAnotherReplicasMark(true, true)).toBe(1);
    expect(await afterAnotherReplicasMark(true, false)).toBe(1);
  });

  it('a plain retry reconciles again (the check is only for the claim wait)', async () => {
    expect(await afterAnotherReplicasMark(false, true)).toBe(2);
  });
});
