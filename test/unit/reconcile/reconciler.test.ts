import { beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/index.ts';
import { SqliteIndex } from '../../../src/index/index.ts';
import { createMetrics, type Metrics } from '../../../src/observability/index.ts';
import { Reconciler } from '../../../src/reconcile/index.ts';
import type { RunKey } from '../../../src/tekton/run-ref.ts';
import {
  doneTaskRun,
  FakeAttestor,
  FakeEvents,
  FakeRunApi,
  failedOutcome,
  fakeSigner,
  okOutcome,
  silentLogger,
} from '../fakes.ts';

const SIGNED = 'chains.tekton.dev/signed';
const key: RunKey = { kind: 'TaskRun', namespace: 'tenant-a', name: 'build-1' };

describe('Reconciler', () => {
  let runs: FakeRunApi;
  let index: SqliteIndex;
  let attestor: FakeAttestor;
  let events: FakeEvents;
  let metrics: Metrics;
  let signer: typeof fakeSigner | undefined;
  let now: number;
  let reconciler: Reconciler;

  beforeEach(() => {
    runs = new FakeRunApi();
    index = new SqliteIndex({ path: ':memory:' });
    attestor = new FakeAttestor();
    events = new FakeEvents();
    metrics = createMetrics();
    signer = fakeSigner;
    now = Date.parse('2026-11-26T10:00:05Z');
    reconciler = new Reconciler({
      config: parseConfig({
        'observer.success-events': 'true',
        'attestation.max-attempts': '3',
        'artifacts.pipelinerun.child-wait-seconds': '60',
      }),
      runApi: runs,
      index,
      attestor,
      events,
      metrics,
      logger: silentLogger(),
      signer: () => signer,
      clock: () => now,
      random: () => 0,
    });
  });

  const counter = async (name: string, labels: Record<string, string> = {}) =>
    (await metrics.registry.getSingleMetric(name)?.get())?.values.find((v) =>
      Object.entries(labels).every(([k, l]) => v.labels[k] === l),
    )?.value ?? 0;

  it('ignores runs that are gone or not finished', async () => {
    expect(await reconciler.reconcile(key, 'r1')).toEqual({});
    runs.put('TaskRun', {
      ...doneTaskRun('build-1', 'u1'),
      status: { conditions: [{ type: 'Succeeded', status: 'Unknown' }] },
    });
    expect(await reconciler.reconcile(key, 'r2')).toEqual({});
    expect(attestor.calls).toHaveLength(0);
  });

  it('attests, records in the index, then marks signed=true', async () => {
    runs.put('TaskRun', doneTaskRun('build-1', 'u1'));
    attestor.outcomes.push(okOutcome('u1'));
    await reconciler.reconcile(key, 'r1');
    expect(runs.annotation(key, SIGNED)).toBe('true');
    expect((await index.getRunRecord('u1'))?.status).toBe('attested');
    const [summary] = await index.findByRun({ namespace: 'tenant-a', kind: 'TaskRun', name: 'build-1' });
    expect(summary?.subjects).toEqual([{ name: 'registry.test/app', digest: `sha256:${'a'.repeat(64)}` }]);
    expect(summary?.keyId).toBe('SHA256:fake');
    expect(events.reasons()).toEqual(['Attested']);
    expect(await counter('provenance_observer_runs_attested_total', { kind: 'TaskRun' })).toBe(1);
    // idempotent: a second reconcile does nothing more
    await reconciler.reconcile(key, 'r2');
    expect(attestor.calls).toHaveLength(1);
  });

  it("writes the tekton backend's annotations with signed=true in one patch, after every backend stored", async () => {
    runs.put('TaskRun', doneTaskRun('build-1', 'u1'));
    const payload = 'chains.tekton.dev/payload-taskrun-u1';
    const withAnnotations = (outcome: ReturnType<typeof okOutcome>) => ({
      ...outcome,
      results: [
        ...outcome.results,
        {
          artifact: outcome.results[0]!.artifact,
          result: {
            backend: 'tekton' as const,
            ok: true as const,
            locations: ['TaskRun tenant-a/build-1 annotations'],
            runAnnotations: { [payload]: 'e30=' },
          },
        },
      ],
    });
    attestor.outcomes.push(withAnnotations(failedOutcome('u1', true)), withAnnotations(okOutcome('u1')));
    expect(await reconciler.reconcile(key, 'r1')).toMatchObject({ attempted: true, attested: false });
    expect(await index.getRunRecord('u1')).toMatchObject({
      status: 'pending',
      lastError: 'registry error (details in the observer log)',
    });
    // one backend failed: the run says only that an attempt failed
    expect(runs.patches.map((p) => Object.keys(p.annotations))).toEqual([['chains.tekton.dev/retries']]);
    now += 60_000;
    await reconciler.reconcile(key, 'r2');
    expect(runs.patches.slice(1).map((p) => p.annotations)).toEqual([
      { [payload]: 'e30=', [SIGNED]: 'true' },
    ]);
  });

  it('attests a run a tenant pre-marked signed=true, and reports the mismatch', async () => {
    runs.put('TaskRun', doneTaskRun('build-1', 'u1', { [SIGNED]: 'true' }));
    attestor.outcomes.push(okOutcome('u1'));
    await reconciler.reconcile(key, 'r1');
    expect(attestor.calls).toHaveLength(1);
    expect(events.reasons()).toEqual(['AnnotationMismatch', 'Attested']);
    expect(
      await counter('provenance_observer_tamper_mismatches_total', { reason: 'signed_without_record' }),
    ).toBe(1);
  });

  it('restores signed=true when a tenant removes it from an attested run, without re-attesting', async () => {
    runs.put('TaskRun', doneTaskRun('build-1', 'u1'));
    attestor.outcomes.push(okOutcome('u1'));
    await reconciler.reconcile(key, 'r1');
    await runs.patchAnnotations(key, { [SIGNED]: null });
    await reconciler.reconcile(key, 'r2');
    expect(runs.annotation(key, SIGNED)).toBe('true');
    expect(attestor.calls).toHaveLength(1);
    expect(
      await counter('provenance_observer_tamper_mismatches_total', { reason: 'signed_annotation_changed' }),
    ).toBe(1);
  });

  it('retries with a retryable error, then gives up with signed=failed after max attempts', async () => {
    runs.put('TaskRun', doneTaskRun('build-1', 'u1'));
    attestor.outcomes.push(failedOutcome('u1'), failedOutcome('u1'), failedOutcome('u1'));
    // a failed attempt is an outcome: the record says when to come back (base 1 s, no jitter: 0.5 s)
    expect(await reconciler.reconcile(key, 'r1')).toEqual({
      requeueAfterMs: 500,
      attempted: true,
      attested: false,
    });
    expect(runs.annotation(key, 'chains.tekton.dev/retries')).toBe('1');
    expect(runs.annotation(key, SIGNED)).toBeUndefined();
    // the index holds the next attempt back (base 1 s, no jitter: 0.5 s), not only the queue
    expect(await reconciler.reconcile(key, 'r2-early')).toEqual({ requeueAfterMs: 500 });
    now += 500;
    expect(await reconciler.reconcile(key, 'r2')).toMatchObject({ attested: false });
    expect(await index.getRunRecord('u1')).toMatchObject({
      status: 'pending',
      lastError: 'registry error (details in the observer log)',
    });
    now += 1000;
    await reconciler.reconcile(key, 'r3');
    expect(runs.annotation(key, SIGNED)).toBe('failed');
    expect((await index.getRunRecord('u1'))?.status).toBe('failed');
    expect(events.reasons()).toEqual(['AttestationRetrying', 'AttestationRetrying', 'AttestationFailed']);
    expect(attestor.forgotten).toEqual(['u1']);
    // terminal: not attempted again while the run says failed
    await reconciler.reconcile(key, 'r4');
    expect(attestor.calls).toHaveLength(3);
    // removing the failed marker asks for a fresh try
    await runs.patchAnnotations(key, { [SIGNED]: null });
    attestor.outcomes.push(okOutcome('u1'));
    await reconciler.reconcile(key, 'r5');
    expect(runs.annotation(key, SIGNED)).toBe('true');
  });

  it('gives up at once when the failure cannot be fixed by retrying', async () => {
    runs.put('TaskRun', doneTaskRun('build-1', 'u1'));
    attestor.outcomes.push(failedOutcome('u1', false));
    await reconciler.reconcile(key, 'r1');
    expect(runs.annotation(key, SIGNED)).toBe('failed');
  });

  it('marks nothing and waits while no signing key is loaded', async () => {
    signer = undefined;
    runs.put('TaskRun', doneTaskRun('build-1', 'u1'));
    expect((await reconciler.reconcile(key, 'r1')).requeueAfterMs).toBeGreaterThan(0);
    expect(runs.patches).toHaveLength(0);
    expect(attestor.calls).toHaveLength(0);
  });

  it('waits for unfinished children until the deadline, then attests what is known', async () => {
    const prKey: RunKey = { kind: 'PipelineRun', namespace: 'tenant-a', name: 'pr-1' };
    runs.put('PipelineRun', {
      kind: 'PipelineRun',
      metadata: { name: 'pr-1', namespace: 'tenant-a', uid: 'p1' },
      status: {
        conditions: [{ type: 'Succeeded', status: 'True' }],
        completionTime: '2026-11-26T10:00:00Z',
        childReferences: [
          { kind: 'TaskRun', name: 'child-running', pipelineTaskName: 'build' },
          { kind: 'TaskRun', name: 'child-gone', pipelineTaskName: 'scan' },
          { kind: 'CustomRun', name: 'child-custom', pipelineTaskName: 'approve' },
        ],
      },
    });
    const running = doneTaskRun('child-running', 'c1');
    runs.put('TaskRun', {
      ...running,
      // Tekton's child: owned by the PipelineRun, created before it completed
      metadata: {
        ...running.metadata,
        ownerReferences: [{ kind: 'PipelineRun', uid: 'p1' }],
        creationTimestamp: '2026-11-26T09:59:00Z',
      } as typeof running.metadata,
      status: { conditions: [{ type: 'Succeeded', status: 'Unknown' }] },
    });
    const first = await reconciler.reconcile(prKey, 'r1');
    expect(first.requeueAfterMs).toBeGreaterThan(0);
    expect(attestor.calls).toHaveLength(0);
    now = Date.parse('2026-11-26T10:01:01Z');
    attestor.outcomes.push(okOutcome('p1'));
    await reconciler.reconcile(prKey, 'r2');
    expect(attestor.calls[0]?.children).toEqual([
      { name: 'child-running', pipelineTaskName: 'build', state: 'unfinished', kind: 'TaskRun' },
      { name: 'child-gone', pipelineTaskName: 'scan', state: 'missing' },
      { name: 'child-custom', pipelineTaskName: 'approve', state: 'not-a-taskrun', kind: 'CustomRun' },
    ]);
    expect(runs.annotation(prKey, SIGNED)).toBe('true');
  });
});
