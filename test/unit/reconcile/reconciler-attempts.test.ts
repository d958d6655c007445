import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../../src/config/index.ts';
import { ObserverError } from '../../../src/errors.ts';
import { SqliteIndex } from '../../../src/index/index.ts';
import type { AttemptContext, RunRecord } from '../../../src/model/index.ts';
import { createMetrics } from '../../../src/observability/index.ts';
import { Reconciler } from '../../../src/reconcile/index.ts';
import type { RunKey } from '../../../src/tekton/run-ref.ts';
import {
  doneTaskRun,
  FakeAttestor,
  FakeEvents,
  FakeRunApi,
  fakeSigner,
  okOutcome,
  silentLogger,
} from '../fakes.ts';

const SIGNED = 'chains.tekton.dev/signed';
const key: RunKey = { kind: 'TaskRun', namespace: 'tenant-a', name: 'build-1' };
const START = Date.parse('2026-11-26T10:00:05Z');

/** Attempts recorded before they run, their spacing in the index, and the deadline per attempt. */
describe('Reconciler attempts', () => {
  let runs: FakeRunApi;
  let index: SqliteIndex;
  let attestor: FakeAttestor;
  let events: FakeEvents;
  let now: number;
  const reconciler = () =>
    new Reconciler({
      config: parseConfig({
        'attestation.max-attempts': '3',
        'attestation.retry-base-ms': '2000',
        'attestation.attempt-timeout-seconds': '10',
      }),
      runApi: runs,
      index,
      attestor,
      events,
      metrics: createMetrics(),
      logger: silentLogger(),
      signer: () => fakeSigner,
      clock: () => now,
      random: () => 1,
    });

  beforeEach(() => {
    runs = new FakeRunApi();
    index = new SqliteIndex({ path: ':memory:', now: () => now });
    attestor = new FakeAttestor();
    events = new FakeEvents();
    now = START;
    runs.put('TaskRun', doneTaskRun('build-1', 'u1'));
  });
  afterEach(() => vi.useRealTimers());

  it('counts an attempt in the index before it runs, with the next allowed start', async () => {
    let during: RunRecord | undefined;
    attestor.attest = async () => {
      during = await index.getRunRecord('u1');
      return okOutcome('u1');
    };
    await reconciler().reconcile(key, 'r1');
    expect(during).toMatchObject({
      status: 'pending',
      attempts: 1,
      updatedAt: new Date(START),
      nextAttemptAt: new Date(START + 2000),
    });
    expect((await index.getRunRecord('u1'))?.status).toBe('attested');
    expect(await index.getRunRecord('u1')).not.toHaveProperty('nextAttemptAt');
  });

  it('gives up with signed=failed and an Event when every attempt of the round died mid-attempt', async () => {
    // each "process" starts an attempt and dies before it reports: the attestor never answers; the
    // next one (10 s later) takes the run over once the dead one's 30 s claim lapsed
    attestor.attest = () => new Promise(() => {});
    for (let i = 0; i < 3; i++) {
      reconciler()
        .reconcile(key, `crash-${i}`)
        .catch(() => {});
      await vi.waitFor(async () => expect((await index.getRunRecord('u1'))?.attempts).toBe(i + 1));
      now += 31_000;
    }
    expect((await index.getRunRecord('u1'))?.attempts).toBe(3);
    const calls = attestor.calls.length;
    expect(await reconciler().reconcile(key, 'after-restart')).toEqual({});
    expect(attestor.calls.length).toBe(calls);
    expect(runs.annotation(key, SIGNED)).toBe('failed');
    expect(runs.annotation(key, 'chains.tekton.dev/retries')).toBe('3');
    expect(events.reasons()).toEqual(['AttestationFailed']);
    expect((await index.getRunRecord('u1'))?.status).toBe('failed');
  });

  it('keeps the retry spacing across a restart: a new reconciler waits for nextAttemptAt', async () => {
    attestor.attest = async () => {
      throw new ObserverError('registry down', { code: 'registry', retryable: true });
    };
    // a failed attempt is an outcome, not an exception: the record says when to come back
    expect(await reconciler().reconcile(key, 'r1')).toMatchObject({ requeueAfterMs: 2000, attested: false });
    expect(await index.getRunRecord('u1')).toMatchObject({
      status: 'pending',
      lastError: 'registry error (details in the observer log)',
    });
    // a restarted observer (new reconciler, same index) is told to come back when the backoff ends
    now += 500;
    expect(await reconciler().reconcile(key, 'r2')).toEqual({ requeueAfterMs: 1500 });
    now += 1500;
    expect(await reconciler().reconcile(key, 'r2')).toMatchObject({ requeueAfterMs: 4000 });
    const record = await index.getRunRecord('u1');
    expect(record?.attempts).toBe(2);
    expect(record?.nextAttemptAt).toEqual(new Date(now + 4000));
  });

  it('does not count an attempt that met only a host known to be down: the run waits for its next probe', async () => {
    const probeAt = START + 30_000;
    const hostDown = (at: number) =>
      new ObserverError('HEAD manifest on reg.example/app: circuit open [registry_circuit_open]', {
        code: 'registry',
        retryable: true,
        reason: 'registry_circuit_open',
        notBefore: at,
      });
    // every attempt meets the open circuit: far more attempts than max-attempts (3), none counted
    for (let i = 0; i < 6; i++) {
      attestor.attest = async () => {
        throw new ObserverError('storing: 1 of 1 image(s) failed', {
          code: 'storage',
          retryable: true,
          cause: hostDown(probeAt + i * 30_000),
        });
      };
      expect(await reconciler().reconcile(key, `down-${i}`)).toMatchObject({ requeueAfterMs: 30_000 });
      const record = await index.getRunRecord('u1');
      expect(record?.nextAttemptAt).toEqual(new Date(probeAt + i * 30_000));
      expect(record?.deferredSince).toEqual(new Date(START));
      expect(record?.attempts).toBe(0);
      // a restarted reconciler keeps the spacing: not due before the probe
      expect(await reconciler().reconcile(key, `early-${i}`)).toEqual({ requeueAfterMs: 30_000 });
      now = probeAt + i * 30_000;
    }
    expect(runs.annotation(key, SIGNED)).toBeUndefined();
    expect(new Set(events.reasons())).toEqual(new Set(['AttestationDeferred']));
    // a failure that is not a host known to be down counts as before
    attestor.attest = async () => {
      throw new ObserverError('registry answered 500', { code: 'registry', retryable: true });
    };
    expect(await reconciler().reconcile(key, 'counted')).toMatchObject({ attested: false });
    expect((await index.getRunRecord('u1'))?.attempts).toBe(1);
    expect(await index.getRunRecord('u1')).not.toHaveProperty('deferredSince');
    attestor.outcomes.push(okOutcome('u1'));
    attestor.attest = FakeAttestor.prototype.attest.bind(attestor);
    now += 10_000;
    await reconciler().reconcile(key, 'back');
    expect(runs.annotation(key, SIGNED)).toBe('true');
  });

  it('abandons an attempt past its deadline as a retryable failure, aborting its signal', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let signal: AbortSignal | undefined;
    let lane: string | undefined;
    attestor.attest = (_run, _object, _children, _signer, context?: AttemptContext) => {
      signal = context?.signal;
      lane = context?.lane;
      return new Promise(() => {});
    };
    // the controller's context (its lane) reaches the attestor with the deadline's signal added
    const result = reconciler().reconcile(key, 'r1', { lane: 'backlog' });
    const settled = expect(result).resolves.toMatchObject({ attempted: true, attested: false });
    // the index writes before the attempt are real I/O turns, not timers (setImmediate is not faked)
    for (let i = 0; i < 1000 && !signal; i++) await new Promise((r) => setImmediate(r));
    expect(signal).toBeDefined();
    expect(lane).toBe('backlog');
    await vi.advanceTimersByTimeAsync(9_999);
    expect(signal?.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await settled;
    expect(signal?.aborted).toBe(true);
    expect(await index.getRunRecord('u1')).toMatchObject({
      status: 'pending',
      lastError: expect.stringMatching(/deadline of 10 s/),
    });
    expect(events.reasons()).toEqual(['AttestationRetrying']);
  });
});
