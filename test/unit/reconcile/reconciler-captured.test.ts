import { beforeEach, describe, expect, it } from 'vitest';
import { SqliteIndex } from '../../../src/index/index.ts';
import type { Reconciler } from '../../../src/reconcile/index.ts';
import type { RunKey } from '../../../src/tekton/run-ref.ts';
import {
  doneTaskRun,
  type FakeAttestor,
  type FakeEvents,
  type FakeRunApi,
  fakeReconciler,
  okOutcome,
} from '../fakes.ts';

const key: RunKey = { kind: 'TaskRun', namespace: 'tenant-a', name: 'build-1' };
const capture = (object: Record<string, unknown>, k: RunKey = key) => ({
  uid: (object.metadata as { uid: string }).uid,
  run: k,
  object,
  capturedAt: new Date('2026-11-26T10:00:01Z'),
});

/** Runs deleted from the cluster after they were captured: attested from the index's copy. */
describe('Reconciler with captured runs', () => {
  let runs: FakeRunApi;
  let index: SqliteIndex;
  let attestor: FakeAttestor;
  let events: FakeEvents;
  let reconciler: Reconciler;

  beforeEach(() => {
    index = new SqliteIndex({ path: ':memory:' });
    ({ runs, attestor, events, reconciler } = fakeReconciler(
      index,
      { 'artifacts.pipelinerun.child-wait-seconds': '60' },
      () => Date.parse('2026-11-26T10:00:05Z'),
    ));
  });

  it('attests a run known only from its captured copy; the index says attested, no mark is attempted twice', async () => {
    await index.captureRuns([capture(doneTaskRun('build-1', 'u1') as never)]);
    attestor.outcomes.push(okOutcome('u1'));
    expect(await reconciler.reconcile(key, 'r1')).toEqual({ attempted: true, attested: true });
    expect(attestor.calls.map((c) => c.uid)).toEqual(['u1']);
    expect((await index.getRunRecord('u1'))?.status).toBe('attested');
    expect(events.reasons()).toContain('Attested');
    // settled: a second reconcile of the gone run does nothing (no restore-mark on a run that is gone)
    const patches = runs.patches.length;
    expect(await reconciler.reconcile(key, 'r2')).toEqual({});
    expect(attestor.calls).toHaveLength(1);
    expect(runs.patches).toHaveLength(patches);
  });

  it('prefers the live run to its copy', async () => {
    await index.captureRuns([capture(doneTaskRun('build-1', 'u1', { stale: 'copy' }) as never)]);
    runs.put('TaskRun', doneTaskRun('build-1', 'u1'));
    attestor.outcomes.push(okOutcome('u1'));
    await reconciler.reconcile(key, 'r1');
    expect(runs.annotation(key, 'chains.tekton.dev/signed')).toBe('true');
  });

  it('skips a run that is gone and was never captured', async () => {
    expect(await reconciler.reconcile(key, 'r1')).toEqual({});
    expect(attestor.calls).toHaveLength(0);
    expect(await index.getRunRecord('u1')).toBeUndefined();
  });

  it('attests a gone PipelineRun with its gone children from their copies', async () => {
    const prKey: RunKey = { kind: 'PipelineRun', namespace: 'tenant-a', name: 'pr' };
    const pipelineRun = {
      kind: 'PipelineRun',
      metadata: {
        name: 'pr',
        namespace: 'tenant-a',
        uid: 'pr-uid',
        creationTimestamp: '2026-11-26T09:00:00Z',
      },
      status: {
        conditions: [{ type: 'Succeeded', status: 'True' }],
        completionTime: '2026-11-26T10:00:00Z',
        childReferences: [{ kind: 'TaskRun', name: 'pr-build', pipelineTaskName: 'build' }],
      },
    };
    const base = doneTaskRun('pr-build', 'child-uid');
    const child = {
      ...base,
      metadata: {
        ...base.metadata,
        creationTimestamp: '2026-11-26T09:00:01Z',
        ownerReferences: [{ kind: 'PipelineRun', name: 'pr', uid: 'pr-uid' }],
      },
    };
    await index.captureRuns([
      capture(pipelineRun, prKey),
      capture(child as never, { kind: 'TaskRun', namespace: 'tenant-a', name: 'pr-build' }),
    ]);
    attestor.outcomes.push(okOutcome('pr-uid'));
    await reconciler.reconcile(prKey, 'r1');
    expect(attestor.calls).toHaveLength(1);
    const [found] = attestor.calls[0].children as { name: string; state: string }[];
    expect([found.name, found.state]).toEqual(['pr-build', 'found']);
    expect((await index.getRunRecord('pr-uid'))?.status).toBe('attested');
  });

  it('a name deleted and re-created before it was attested: the earlier incarnation from its copy first, then the live one', async () => {
    await index.captureRuns([capture(doneTaskRun('build-1', 'old-uid') as never)]);
    runs.put('TaskRun', doneTaskRun('build-1', 'new-uid'));
    attestor.outcomes.push(okOutcome('old-uid'), okOutcome('new-uid'));
    expect(await reconciler.reconcile(key, 'r1')).toEqual({ requeueAfterMs: 0 });
    expect((await index.getRunRecord('old-uid'))?.status).toBe('attested');
    expect(await reconciler.reconcile(key, 'r2')).toEqual({ attempted: true, attested: true });
    expect(attestor.calls.map((c) => c.uid)).toEqual(['old-uid', 'new-uid']);
    expect((await index.getRunRecord('new-uid'))?.status).toBe('attested');
    expect(runs.annotation(key, 'chains.tekton.dev/signed')).toBe('true');
  });
});
