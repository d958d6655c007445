import { afterEach, describe, expect, it, vi } from 'vitest';
import { Controller } from '../../../src/controller/index.ts';
import { createMetrics } from '../../../src/observability/index.ts';
import { LatencyCap } from '../../../src/queue/latency-cap.ts';
import type { RunKey } from '../../../src/tekton/run-ref.ts';
import { FakeSource, silentLogger } from '../fakes.ts';

describe('LatencyCap', () => {
  it('starts at max, is cut by each slow live attempt, and grows back by one per timely one', () => {
    const cap = new LatencyCap({ targetMs: 1000, max: 32 });
    expect(cap.current).toBe(32);
    cap.sample(1500);
    expect(cap.current).toBe(22);
    for (let i = 0; i < 10; i++) cap.sample(3000);
    expect(cap.current).toBe(1);
    cap.sample(400);
    cap.sample(400);
    expect(cap.current).toBe(3);
    for (let i = 0; i < 100; i++) cap.sample(400);
    expect(cap.current).toBe(32);
  });

  it('grows back by about one per round of backlog attempts, not one fresh run at a time', () => {
    const cap = new LatencyCap({ targetMs: 1000, max: 32 });
    for (let i = 0; i < 10; i++) cap.sample(3000);
    expect(cap.current).toBe(1);
    cap.backlogDone();
    expect(cap.current).toBe(2);
    // about 1 + 2 + … + k attempts to reach k
    for (let i = 0; i < 20; i++) cap.backlogDone();
    expect(cap.current).toBeGreaterThanOrEqual(6);
    expect(cap.current).toBeLessThanOrEqual(7);
    for (let i = 0; i < 1000; i++) cap.backlogDone();
    expect(cap.current).toBe(32);
  });

  it('never goes below min', () => {
    const cap = new LatencyCap({ targetMs: 10, max: 8, min: 2 });
    for (let i = 0; i < 20; i++) cap.sample(1000);
    expect(cap.current).toBe(2);
  });
});

describe('Controller with a backlog', () => {
  afterEach(() => vi.useRealTimers());

  it('runs fewer backlog attempts at once while live attempts that attest miss their target, the live ones still run', async () => {
    // fake timers and a fake clock: the attempts' durations are exact, whatever the machine's load
    vi.useFakeTimers({
      toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'performance'],
    });
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const pass = (ms: number) => vi.advanceTimersByTimeAsync(ms);
    let backlogInFlight = 0;
    let peakBacklog = 0;
    let live = 0;
    const controller = new Controller({
      source: new FakeSource(),
      index: {
        getRunRecord: async () => undefined,
        captureRuns: async () => {},
        markRunDeleted: async () => {},
        unsettledCaptures: async () => [],
      },
      reconciler: {
        reconcile: async (key: RunKey) => {
          if (key.name.startsWith('live')) {
            live++;
            await sleep(60); // slower than the 20 ms target
            if (key.name.startsWith('live-failing')) throw new Error('its registry timed out');
            return { attempted: true, attested: !key.name.startsWith('live-unstored') };
          }
          backlogInFlight++;
          peakBacklog = Math.max(peakBacklog, backlogInFlight);
          await sleep(150);
          backlogInFlight--;
          return { attempted: true };
        },
      },
      metrics: createMetrics(),
      logger: silentLogger(),
      workers: 8, // the backlog starts at 8 at once
      backlogWorkers: 16,
      liveTargetMs: 20,
      backoff: { baseMs: 60_000, maxMs: 60_000 }, // a failed live key is not tried again here
    });
    await controller.start();
    const key = (name: string): RunKey => ({ kind: 'TaskRun', namespace: 'ns', name });
    for (let i = 0; i < 400; i++) controller.enqueue(key(`backlog-${i}`), 'backlog');
    await pass(600);
    const before = peakBacklog;
    expect(controller.backlogLimit).toBeGreaterThan(4);
    // slow attempts that attest nothing (a tenant's registry failing or timing out) do not cut it
    for (let i = 0; i < 3; i++) {
      controller.enqueue(key(`live-failing-${i}`), 'live');
      controller.enqueue(key(`live-unstored-${i}`), 'live');
      await pass(80);
    }
    expect(live).toBe(6);
    expect(controller.backlogLimit).toBeGreaterThan(4);
    // fresh runs keep coming, each attempt slower than the target: the cap settles where a round
    // of backlog attempts (150 ms, +1) makes up for the cuts (×0.7 every 80 ms)
    let feeding = true;
    const feeder = (async () => {
      for (let i = 0; feeding; i++) {
        controller.enqueue(key(`live-${i}`), 'live');
        await sleep(80);
      }
    })();
    await pass(600);
    expect(controller.backlogLimit).toBeLessThanOrEqual(3);
    peakBacklog = backlogInFlight;
    await pass(300);
    expect(peakBacklog).toBeLessThanOrEqual(4);
    feeding = false;
    await pass(80);
    await feeder;
    expect(before).toBeGreaterThan(4);
    const stopped = controller.stop();
    // the attempts in flight end on the fake clock
    for (let i = 0; i < 10; i++) await pass(200);
    await stopped;
  });
});
