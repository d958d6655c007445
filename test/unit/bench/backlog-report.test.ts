import { cpus } from 'node:os';
import { describe, expect, it } from 'vitest';
import type { ScenarioResult } from '../../../bench/backlog/scenario.ts';
import { formatBacklogReport } from '../../../bench/backlog.ts';

/** A drain of 1,000 runs whose figures make the report's arithmetic easy to check by hand. */
function result(overrides: Partial<ScenarioResult> = {}): ScenarioResult {
  return {
    runs: 1000,
    workers: 'default',
    limits: {
      patchPerSecond: 200,
      pushPerSecond: 50,
      cpuPerPatchMs: {},
      cpuPerPushMs: {},
      // 40 + 15 + 5 + 12 = 72 ms per run for the requests alone
      cpuPerRunRequestsMs: { registry: 40, 'kube-apiserver': 15, etcd: 5, bench: 12 },
    },
    seedPerSecond: 70,
    drainPerSecond: 10,
    drainSeconds: 100,
    signed: 1000,
    failed: 0,
    fresh: { count: 50, p50Ms: 700, p99Ms: 1500, unsigned: 0, slowest: [] },
    rssMiB: { idle: 90, start: 120, peak: 140, end: 140 },
    cpuMsPerRun: 20,
    // 20 + 50 + 20 + 5 + 5 = 100 ms of CPU per run
    machineCpuMsPerRun: { observer: 20, registry: 50, 'kube-apiserver': 20, etcd: 5, bench: 5 },
    registryRequestsPerRun: 15,
    ...overrides,
  };
}

describe('the backlog bench report', () => {
  const report = formatBacklogReport([result()], { runs: 1000, freshEverySeconds: 2, quick: true });

  it('rates the drain against half the lower limit', () => {
    // 10 runs/s against 0.5 × min(200, 50) = 25
    expect(report).toContain('- drain rate / (0.5 × min(patch, push limit)): 0.40 (goal ≥ 1)');
    expect(report).toContain('- observer CPU per attested run / 10 ms: 2.00 (goal ≤ 1)');
  });

  it('adds up the CPU per run of every process and derives what the machine allows', () => {
    expect(report).toContain('1000 | 20.0 | 50.0 | 20.0 | 5.0 | 5.0 | 100.0');
    const n = cpus().length;
    // n cores give n × 1000 ms of CPU per second: n × 10 runs/s at 100 ms per run
    expect(report).toContain(
      `≤ ${(n * 10).toFixed(1)} runs/s, ${((n * 10) / 25).toFixed(2)} of the drain goal`,
    );
    expect(report).toContain(`drained 10.0 = ${(10 / (n * 10)).toFixed(2)} of that`);
  });

  it("names the CPU one run's requests cost each process, and the ceiling and floor they set", () => {
    const n = cpus().length;
    expect(report).toContain('the observer sent 15.0 registry requests per run');
    expect(report).toContain(
      'registry 40.0, kube-apiserver 15.0, etcd 5.0 and the client 12.0 ms of CPU per run',
    );
    // n × 1000 / 72 runs/s
    const rate = (n * 1000) / 72;
    expect(report).toContain(
      `one run's requests, as replayed: ≤ ${rate.toFixed(1)} runs/s, ${(rate / 25).toFixed(2)} of the drain goal`,
    );
    expect(report).toContain("its clients' 12.0 ms per run for the requests alone is 1.20 of the CPU goal");
  });
});
