import { describe, expect, it } from 'vitest';
import { Controller, type RunObservation, type RunSource } from '../../../src/controller/index.ts';
import { INDEX_DISK_FULL, ObserverError } from '../../../src/errors.ts';
import { SqliteIndex } from '../../../src/index/index.ts';
import { createLogger, createMetrics } from '../../../src/observability/index.ts';
import type { RunKey } from '../../../src/tekton/run-ref.ts';
import { doneTaskRun, fakeReconciler, okOutcome } from '../fakes.ts';
import { newAttestation } from '../index/attestation-fixtures.ts';

const SIGNED = 'chains.tekton.dev/signed';
const key: RunKey = { kind: 'TaskRun', namespace: 'tenant-a', name: 'build-1' };

function reconcilerOn(index: SqliteIndex, config: Record<string, string> = {}) {
  const fakes = fakeReconciler(index, config);
  fakes.runs.put('TaskRun', doneTaskRun('build-1', 'u1'));
  return fakes;
}

describe('index growth', () => {
  it('a namespace at its payload cap: the run fails with the reason code and an Event, nothing is signed', async () => {
    const index = new SqliteIndex({ path: ':memory:' });
    await index.addAttestation(newAttestation({ uid: 'earlier' })); // tenant-a now holds a few hundred bytes
    const { runs, attestor, events, reconciler } = reconcilerOn(index, {
      'index.namespace-payload-cap-bytes': '100',
    });
    expect(await reconciler.reconcile(key, 'r1')).toEqual({});
    expect(attestor.calls).toHaveLength(0);
    expect(runs.annotation(key, SIGNED)).toBe('failed');
    expect((await index.getRunRecord('u1'))?.lastError).toMatch(
      /^namespace_payload_cap: namespace tenant-a holds \d+ bytes/,
    );
    const event = events.events.find((e) => e.reason === 'AttestationFailed');
    expect(event?.message).toContain('namespace_payload_cap');
  });

  it('under the free-space floor, a namespace over its share is deferred (Event, no attempt, nothing marked); another is attested', async () => {
    const index = new SqliteIndex({ path: ':memory:' });
    // tenant-a holds ~1.3 MiB of envelopes; its share is 1 MiB
    await index.addAttestation(newAttestation({ uid: 'earlier', sig: 'x'.repeat(1300 * 1024) }));
    const { databaseBytes } = await index.storageBytes();
    const fakes = reconcilerOn(index, {
      'index.namespace-share-bytes': String(1024 * 1024),
      'index.free-space-floor-percent': '10',
      // the volume is the database and 1 KB more: far under a 10% floor
      'index.volume-bytes': String(databaseBytes + 1000),
    });
    const { runs, attestor, events, reconciler } = fakes;
    expect(await reconciler.reconcile(key, 'r1')).toEqual({ requeueAfterMs: 60_000 });
    expect(attestor.calls).toHaveLength(0);
    expect(runs.annotation(key, SIGNED)).toBeUndefined();
    expect((await index.getRunRecord('u1'))?.attempts ?? 0).toBe(0);
    const event = events.events.find((e) => e.reason === 'AttestationDeferred');
    expect(event?.message).toMatch(
      /^namespace_disk_share: attestation of TaskRun tenant-a\/build-1 deferred: namespace tenant-a holds \d+ bytes .* over its fair share of 1048576/,
    );
    // tenant-b holds nothing: within its share, it is attested on the same low disk
    const keyB: RunKey = { kind: 'TaskRun', namespace: 'tenant-b', name: 'build-1' };
    runs.put('TaskRun', {
      ...doneTaskRun('build-1', 'u2'),
      metadata: { ...doneTaskRun('build-1', 'u2').metadata, namespace: 'tenant-b' },
    });
    attestor.outcomes.push(okOutcome('u2'));
    await reconciler.reconcile(keyB, 'r2');
    expect(runs.annotation(keyB, SIGNED)).toBe('true');
  });

  it('under the cap (or with no cap) the run is attested', async () => {
    const index = new SqliteIndex({ path: ':memory:' });
    await index.addAttestation(newAttestation({ uid: 'earlier' }));
    const { runs, attestor, reconciler } = reconcilerOn(index, { 'index.namespace-payload-cap-bytes': '0' });
    attestor.outcomes.push(okOutcome('u1'));
    await reconciler.reconcile(key, 'r1');
    expect(runs.annotation(key, SIGNED)).toBe('true');
  });

  it('a full index disk (SQLITE_FULL, fault-injected with a size cap) is retryable and marks nothing signed', async () => {
    // max_page_count cannot go below the pages in use: the database can no longer grow at all
    const index = new SqliteIndex({ path: ':memory:', maxBytes: 1 });
    const { runs, attestor, reconciler } = reconcilerOn(index);
    const big = okOutcome('u1');
    if (big.provenance)
      big.provenance.artifact.envelope.payload = Buffer.alloc(64 * 1024, 1).toString('base64');
    attestor.outcomes.push(big);
    const err = await reconciler.reconcile(key, 'r1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ObserverError);
    expect(err).toMatchObject({ code: 'index', retryable: true, reason: INDEX_DISK_FULL });
    expect((err as Error).message).toContain('SQLITE_FULL');
    expect(runs.annotation(key, SIGNED)).toBeUndefined();
    expect((await index.getRunRecord('u1'))?.status).not.toBe('attested');
  });

  it('the controller counts a full index disk (metric) and logs it, and retries the run', async () => {
    const full = new SqliteIndex({ path: ':memory:', maxBytes: 1 });
    const diskFull = await full
      .addAttestation(newAttestation({ uid: 'x', sig: 'x'.repeat(64 * 1024) }))
      .catch((e: unknown) => e as ObserverError);
    expect(diskFull).toMatchObject({ reason: INDEX_DISK_FULL });
    const lines: string[] = [];
    const metrics = createMetrics();
    let source: (o: RunObservation) => void | Promise<void> = () => {};
    const reconciles: string[] = [];
    const controller = new Controller({
      source: {
        start: async (o) => {
          source = o;
        },
        stop() {},
        synced: () => true,
      } satisfies RunSource,
      index: new SqliteIndex({ path: ':memory:' }),
      reconciler: {
        reconcile: async (k: RunKey) => {
          reconciles.push(k.name);
          if (reconciles.length === 1) throw diskFull;
          return {};
        },
      },
      metrics,
      logger: createLogger({ level: 'error', destination: { write: (l: string) => void lines.push(l) } }),
      workers: 1,
      backoff: { baseMs: 1, maxMs: 1 },
    });
    await controller.start();
    await source({ key, uid: 'u1', done: true, annotations: {}, origin: 'live' });
    for (let i = 0; i < 200 && reconciles.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
    await controller.stop();
    expect(reconciles).toEqual(['build-1', 'build-1']);
    const counted = (
      await metrics.registry.getSingleMetric('provenance_observer_index_disk_full_total')?.get()
    )?.values[0]?.value;
    expect(counted).toBe(1);
    expect(lines.join()).toContain('the index disk is full');
  });
});
