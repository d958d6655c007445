import { afterEach, describe, expect, it, vi } from 'vitest';
import { Controller, type RunObservation } from '../../../src/controller/index.ts';
import { ObserverError } from '../../../src/errors.ts';
import { SqliteIndex } from '../../../src/index/index.ts';
import { createMetrics } from '../../../src/observability/index.ts';
import type { RunKey } from '../../../src/tekton/run-ref.ts';
import { FakeSource, silentLogger } from '../fakes.ts';

const obs = (name: string, over: Partial<RunObservation> = {}): RunObservation => ({
  key: { kind: 'TaskRun', namespace: 'ns', name },
  uid: `uid-${name}`,
  done: true,
  annotations: {},
  origin: 'live',
  ...over,
});

/** An index that keeps no captures or deletion marks (these tests are about queueing). */
const noCaptures = {
  captureRuns: async () => {},
  markRunDeleted: async () => {},
  unsettledCaptures: async () => [],
};

/** Polls observable state with a 1 s deadline (the workers run on their own promise chains). */
const until = async (cond: () => boolean) => {
  // a poll interval, not a wait for state: the loop ends as soon as cond() holds
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).toBe(true);
};

describe('Controller', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('queues finished runs the index has not settled, and skips settled ones', async () => {
    const index = new SqliteIndex({ path: ':memory:' });
    await index.putRunRecord({
      uid: 'uid-settled',
      run: { kind: 'TaskRun', namespace: 'ns', name: 'settled' },
      status: 'attested',
      attempts: 0,
      updatedAt: new Date(),
    });
    const seen: string[] = [];
    const source = new FakeSource();
    const controller = new Controller({
      source,
      index,
      reconciler: {
        reconcile: async (key: RunKey) => {
          seen.push(key.name);
          return {};
        },
      },
      metrics: createMetrics(),
      logger: silentLogger(),
      workers: 1,
    });
    await controller.start();
    source.observe(obs('running', { done: false }));
    source.observe(obs('settled', { annotations: { 'chains.tekton.dev/signed': 'true' } }));
    source.observe(obs('tampered', { annotations: { 'chains.tekton.dev/signed': 'true' } }));
    source.observe(obs('fresh'));
    await until(() => seen.length === 2);
    expect(seen.sort()).toEqual(['fresh', 'tampered']);
    await controller.stop();
  });

  it('at start, queues the captured runs the index has not settled (a run deleted after capture is in no list)', async () => {
    const seen: string[] = [];
    const controller = new Controller({
      source: new FakeSource(),
      index: {
        ...noCaptures,
        getRunRecord: async () => undefined,
        unsettledCaptures: async () => [{ uid: 'u-gone', kind: 'TaskRun', namespace: 'ns', name: 'gone' }],
      },
      reconciler: {
        reconcile: async (key: RunKey) => {
          seen.push(key.name);
          return {};
        },
      },
      metrics: createMetrics(),
      logger: silentLogger(),
      workers: 1,
    });
    await controller.start();
    await until(() => seen.length === 1);
    expect(seen).toEqual(['gone']);
    await controller.stop();
  });

  it('reports the age of the oldest finished run not yet settled, from its completion time', async () => {
    let fail = true;
    const source = new FakeSource();
    const done: string[] = [];
    const controller = new Controller({
      source,
      index: { ...noCaptures, getRunRecord: async () => undefined },
      reconciler: {
        reconcile: async (key: RunKey) => {
          done.push(key.name);
          if (fail) throw new ObserverError('registry down', { code: 'registry', retryable: true });
          return {};
        },
      },
      metrics: createMetrics(),
      logger: silentLogger(),
      workers: 1,
      backoff: { baseMs: 1, maxMs: 2 },
    });
    await controller.start();
    const now = Date.now();
    expect(controller.oldestOutstandingMs(now)).toBe(0);
    source.observe(obs('old', { completedAt: now - 60_000 }));
    source.observe(obs('newer', { completedAt: now - 5_000 }));
    await until(() => done.includes('old') && done.includes('newer'));
    expect(controller.oldestOutstandingMs(now)).toBe(60_000);
    fail = false;
    await until(() => controller.oldestOutstandingMs(now) === 0);
    await controller.stop();
  });

  it('retries a retryable failure with backoff and drops a terminal one', async () => {
    vi.useFakeTimers();
    const calls: Record<string, number> = {};
    const source = new FakeSource();
    const controller = new Controller({
      source,
      index: { ...noCaptures, getRunRecord: async () => undefined },
      reconciler: {
        reconcile: async (key: RunKey) => {
          calls[key.name] = (calls[key.name] ?? 0) + 1;
          if (key.name === 'flaky' && calls[key.name]! < 3)
            throw new ObserverError('apiserver hiccup', { code: 'kube', retryable: true });
          if (key.name === 'bad')
            throw new ObserverError('malformed', { code: 'input_invalid', retryable: false });
          return {};
        },
      },
      metrics: createMetrics(),
      logger: silentLogger(),
      backoff: { baseMs: 1000, maxMs: 5000 },
    });
    await controller.start();
    source.observe(obs('flaky'));
    source.observe(obs('bad'));
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toEqual({ flaky: 1, bad: 1 });
    // equal jitter: retry n waits between half and all of base·2^n (1st: 500–1000 ms, 2nd: 1–2 s)
    await vi.advanceTimersByTimeAsync(499);
    expect(calls.flaky).toBe(1);
    await vi.advanceTimersByTimeAsync(501); // t = 1000
    expect(calls.flaky).toBe(2);
    await vi.advanceTimersByTimeAsync(499); // t = 1499 < 500 + 1000
    expect(calls.flaky).toBe(2);
    await vi.advanceTimersByTimeAsync(1501); // t = 3000 ≥ 1000 + 2000
    expect(calls.flaky).toBe(3);
    // flaky succeeded and bad was dropped: nothing is left on a timer, however long we wait
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(600_000);
    expect(calls).toEqual({ flaky: 3, bad: 1 });
    await controller.stop();
  });

  it('counts index failures (look-up and reconcile) as index store errors, and nothing else', async () => {
    const metrics = createMetrics();
    const indexDown = new ObserverError('database is locked', { code: 'index', retryable: true });
    const source = new FakeSource();
    const reconciled: string[] = [];
    const controller = new Controller({
      source,
      index: {
        ...noCaptures,
        getRunRecord: async () => {
          throw indexDown;
        },
      },
      reconciler: {
        reconcile: async (key: RunKey) => {
          reconciled.push(key.name);
          if (key.name === 'registry-down')
            throw new ObserverError('registry down', { code: 'storage', retryable: false });
          throw new ObserverError('index gone', { code: 'index', retryable: false });
        },
      },
      metrics,
      logger: silentLogger(),
      workers: 1,
    });
    await controller.start();
    source.observe(obs('index-down'));
    source.observe(obs('registry-down'));
    await until(() => reconciled.length === 2);
    const errors = async () =>
      (await metrics.storeResults.get()).values.find(
        (v) => v.labels.backend === 'index' && v.labels.outcome === 'error',
      )?.value;
    // two failed look-ups, one index failure while reconciling; the storage failure is not counted
    expect(await errors()).toBe(3);
    await controller.stop();
  });
});

/**
 * A controller with 64 backlog workers whose backlog attempts wait (on registries, settle times)
 * until released; `inFlight` holds the attempts running, `most` the most at once.
 */
function heldAttempts(source: FakeSource, busyShare: () => number) {
  const held = { release: [] as (() => void)[], inFlight: new Set<string>(), most: 0 };
  const controller = new Controller({
    source,
    index: { ...noCaptures, getRunRecord: async () => undefined },
    reconciler: {
      reconcile: (key: RunKey) =>
        new Promise((resolve) => {
          held.inFlight.add(key.name);
          held.most = Math.max(held.most, held.inFlight.size);
          held.release.push(() => {
            held.inFlight.delete(key.name);
            resolve({});
          });
        }),
    },
    metrics: createMetrics(),
    logger: silentLogger(),
    workers: 2,
    backlogWorkers: 64,
    cpuBusyShare: busyShare,
  });
  return { controller, held };
}

describe('Controller backlog concurrency', () => {
  it('raises the backlog limit with CPU headroom while backlog runs wait, and cuts it when the CPU is full', async () => {
    let busy = 0.2;
    const { controller, held } = heldAttempts(new FakeSource(), () => busy);
    const { release, inFlight } = held;
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    await controller.start();
    for (let i = 0; i < 200; i++)
      controller.enqueue({ kind: 'TaskRun', namespace: 'ns', name: `b${i}` }, 'backlog');
    await until(() => inFlight.size === 4);
    expect(controller.backlogLimit).toBe(4);
    for (let s = 0; s < 40; s++) {
      vi.advanceTimersByTime(1000);
      await until(() => inFlight.size === controller.backlogLimit);
    }
    const open = controller.backlogLimit;
    expect(open).toBeGreaterThan(30);
    busy = 1;
    vi.advanceTimersByTime(3000);
    expect(controller.backlogLimit).toBeLessThan(open);
    for (const r of release.splice(0)) r();
    expect(held.most).toBe(open);
    vi.useRealTimers();
    await controller.stop().catch(() => {});
  });

  it('keeps the backlog limit where it starts until the first list is delivered', async () => {
    let listed = () => {};
    // a first list still being read: the runs it found so far are queued, the list is not done
    const source = new (class extends FakeSource {
      override async start(observe: (o: RunObservation) => void) {
        this.observe = observe;
        await new Promise<void>((resolve) => {
          listed = resolve;
        });
      }
    })();
    const { controller, held } = heldAttempts(source, () => 0.2);
    const { release, inFlight } = held;
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const started = controller.start();
    for (let i = 0; i < 200; i++)
      controller.enqueue({ kind: 'TaskRun', namespace: 'ns', name: `b${i}` }, 'backlog');
    await until(() => inFlight.size === 4);
    // CPU to spare and the limit binding for 40 s: no step is judged while the list is read
    for (let s = 0; s < 40; s++) vi.advanceTimersByTime(1000);
    expect(controller.backlogLimit).toBe(4);
    expect(inFlight.size).toBe(4);
    listed();
    await started;
    for (let s = 0; s < 20; s++) {
      vi.advanceTimersByTime(1000);
      await until(() => inFlight.size === controller.backlogLimit);
    }
    expect(controller.backlogLimit).toBeGreaterThan(4);
    for (const r of release.splice(0)) r();
    vi.useRealTimers();
    await controller.stop().catch(() => {});
  });
});
