import { describe, expect, it } from 'vitest';
import { Controller, type RunObservation, type RunSource } from '../../../src/controller/index.ts';
import { ObserverError } from '../../../src/errors.ts';
import { SqliteIndex } from '../../../src/index/index.ts';
import type { HeldObject, RunHold } from '../../../src/kube/index.ts';
import { createMetrics } from '../../../src/observability/index.ts';
import type { RunKey } from '../../../src/tekton/run-ref.ts';
import { silentLogger } from '../fakes.ts';

class FakeSource implements RunSource {
  observe: (o: RunObservation) => void | Promise<void> = () => {};
  async start(observe: (o: RunObservation) => void | Promise<void>) {
    this.observe = observe;
  }
  stop() {}
  synced() {
    return true;
  }
}

class RecordingHold implements RunHold {
  readonly calls: string[] = [];
  async hold(key: RunKey, _object: HeldObject) {
    this.calls.push(`hold ${key.name}`);
  }
  async release(key: RunKey, _object: HeldObject) {
    this.calls.push(`release ${key.name}`);
  }
}

const obs = (name: string, over: Partial<RunObservation> = {}): RunObservation => ({
  key: { kind: 'TaskRun', namespace: 'ns', name },
  uid: `uid-${name}`,
  done: true,
  annotations: {},
  origin: 'live',
  object: { kind: 'TaskRun', metadata: { name, namespace: 'ns', uid: `uid-${name}` } },
  ...over,
});

async function setup(index = new SqliteIndex({ path: ':memory:' })) {
  const source = new FakeSource();
  const hold = new RecordingHold();
  const copiesAtReconcile: (string | undefined)[] = [];
  const controller = new Controller({
    source,
    index,
    hold,
    reconciler: {
      reconcile: async (key: RunKey) => {
        copiesAtReconcile.push((await index.findCapturedRun(key))?.uid);
        return {};
      },
    },
    metrics: createMetrics(),
    logger: silentLogger(),
    workers: 1,
  });
  await controller.start();
  return { source, hold, index, controller, copiesAtReconcile };
}

describe('Controller: capture at first sight', () => {
  it('captures a finished run before queueing it, then releases its hold', async () => {
    const { source, hold, controller, copiesAtReconcile } = await setup();
    await source.observe(obs('build'));
    await controller.stop();
    expect(copiesAtReconcile).toEqual(['uid-build']);
    expect(hold.calls).toEqual(['release build']);
  });

  it('holds an unfinished run and neither captures nor queues it', async () => {
    const { source, hold, index, controller, copiesAtReconcile } = await setup();
    await source.observe(obs('running', { done: false }));
    await controller.stop();
    expect(hold.calls).toEqual(['hold running']);
    expect(copiesAtReconcile).toEqual([]);
    expect(
      await index.findCapturedRun({ kind: 'TaskRun', namespace: 'ns', name: 'running' }),
    ).toBeUndefined();
  });

  it('a DELETED event marks the run deleted and captures its final object', async () => {
    const { source, hold, index, controller, copiesAtReconcile } = await setup();
    await source.observe(obs('gone', { deleted: true }));
    await source.observe(obs('gone-running', { deleted: true, done: false }));
    await controller.stop();
    expect((await index.getRunWork('uid-gone'))?.deletedAt).toBeInstanceOf(Date);
    expect((await index.getRunWork('uid-gone-running'))?.deletedAt).toBeInstanceOf(Date);
    expect(copiesAtReconcile).toEqual(['uid-gone']);
    expect(hold.calls).toEqual([]); // a deleted run has no finalizer to add or remove
  });

  it('a settled run is released without a new capture or a queue entry', async () => {
    const index = new SqliteIndex({ path: ':memory:' });
    await index.putRunRecord({
      uid: 'uid-done',
      run: { kind: 'TaskRun', namespace: 'ns', name: 'done' },
      status: 'attested',
      attempts: 0,
      updatedAt: new Date(),
    });
    const { source, hold, controller, copiesAtReconcile } = await setup(index);
    await source.observe(obs('done', { annotations: { 'chains.tekton.dev/signed': 'true' } }));
    await controller.stop();
    expect(copiesAtReconcile).toEqual([]);
    expect(await index.findCapturedRun({ kind: 'TaskRun', namespace: 'ns', name: 'done' })).toBeUndefined();
    expect(hold.calls).toEqual(['release done']);
  });

  it('when the capture fails the run is queued anyway and stays held (its next sighting tries again)', async () => {
    const index = new SqliteIndex({ path: ':memory:' });
    index.captureRuns = async () => {
      throw new ObserverError('index disk full', { code: 'index', retryable: true });
    };
    const { source, hold, controller, copiesAtReconcile } = await setup(index);
    await source.observe(obs('build'));
    await controller.stop();
    expect(copiesAtReconcile).toEqual([undefined]);
    expect(hold.calls).toEqual([]);
  });
});
