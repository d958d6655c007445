import { cpus } from 'node:os';
import { describe, expect, it } from 'vitest';
import { type BacklogRound, formatBacklogReport } from '../../../bench/backlog/report.ts';
import type { ScenarioResult } from '../../../bench/backlog/scenario.ts';

/** A drain of 10,000 runs whose figures make the report's arithmetic easy to check by hand. */
function result(overrides: Partial<ScenarioResult> = {}): ScenarioResult {
  return {
    runs: 10_000,
    workers: 'default',
    limits: {
      patchPerSecond: 200,
      pushPerSecond: 50,
      pushBusyShare: 0.84,
      cpuPerPatchMs: {},
      cpuPerPushMs: {},
      // 40 + 15 + 5 + 12 = 72 ms per run for the requests alone
      cpuPerRunRequestsMs: { registry: 40, 'kube-apiserver': 15, etcd: 5, bench: 12 },
      replay: { perSecond: 24.5, busyShare: 0.86, getMs: { registryClient: 0.35, undici: 0.3 } },
    },
    seedPerSecond: 70,
    drainPerSecond: 10,
    drainSeconds: 1000,
    signed: 10_000,
    failed: 0,
    fresh: { count: 50, p50Ms: 700, p99Ms: 1500, unsigned: 0, slowest: [] },
    rssMiB: { idle: 90, start: 120, peak: 140, end: 140 },
    cpuMsPerRun: 20,
    // 20 + 30 + 20 + 5 + 5 = 80 ms of CPU per run
    machineCpuMsPerRun: { observer: 20, registry: 30, 'kube-apiserver': 20, etcd: 5, bench: 5 },
    registryRequestsPerRun: 15,
    window: {
      seconds: 1000,
      signed: 10_500,
      processShare: 0.92,
      busyShare: 0.95,
      iowaitShare: 0.04,
      disk: { device: 'vda', writes: 210_000, flushes: 63_000, busyShare: 0.5 },
    },
    requestsPerRun: { 'registry PUT manifest': 2, 'registry HEAD manifest': 3, 'kube patch taskruns': 1 },
    ...overrides,
  };
}

const rowOf = (report: string, measure: string) => report.split('\n').find((l) => l.startsWith(measure));

describe('the backlog bench report', () => {
  const options = { runs: 10_000, freshEverySeconds: 2, rounds: 2 };

  it('marks a goal met only when every round meets it', () => {
    const rounds: BacklogRound[] = [
      { big: result(), small: result({ runs: 1000, rssMiB: { idle: 90, start: 110, peak: 130, end: 130 } }) },
      { big: result({ cpuMsPerRun: 9 }), small: result({ runs: 1000 }) },
    ];
    const report = formatBacklogReport(rounds, options);
    expect(rowOf(report, 'observer CPU per attested run')).toBe(
      'observer CPU per attested run | 20.0 ms | 9.0 ms | ≤ 10 ms | no',
    );
    expect(rowOf(report, 'CPU per attested run, all processes')).toBe(
      'CPU per attested run, all processes | 80.0 ms | 80.0 ms | ≤ 85 ms | yes',
    );
    expect(rowOf(report, 'CPU of the whole machine')).toMatch(
      /\| 0\.92 \| 0\.92 \| ≥ 0\.90, with fresh p99 ≤ 2 s \| yes$/,
    );
    // 140 − 130 MiB = 10.5 MB in round 1; 0 in round 2
    expect(rowOf(report, 'peak RSS growth')).toBe(
      'peak RSS growth N/10 → N runs | 10.5 MB | 0.0 MB | ≤ 20 MB | yes',
    );
  });

  it('fails the machine-share goal when fresh runs got slow, however busy the machine was', () => {
    const slow = result({ fresh: { count: 50, p50Ms: 900, p99Ms: 2100, unsigned: 0, slowest: [] } });
    const report = formatBacklogReport([{ big: slow }], { ...options, rounds: 1, quick: true });
    expect(rowOf(report, 'CPU of the whole machine')).toMatch(/\| no$/);
    expect(rowOf(report, 'fresh completion')).toMatch(/2100 ms \| ≤ 2000 ms \| no$/);
    expect(rowOf(report, 'peak RSS growth')).toMatch(/not measured \(--quick\) \| ≤ 20 MB \| n\/a$/);
  });

  it('says what the disk did per run, or that there was no block device to read', () => {
    const report = formatBacklogReport([{ big: result() }], { ...options, rounds: 1, quick: true });
    expect(report).toContain(
      "- the disk (vda, under the registry's blobs, etcd's WAL and the index): 20.0 writes and 6.0 cache flushes (fsyncs) per run, 63 flushes/s; busy 0.50 of the window, the machine idle waiting for it 0.04 of the window",
    );
    expect(rowOf(report, '(whole machine idle waiting')).toBe(
      '(whole machine idle waiting for the disk, iowait) | 0.04 | | ',
    );
    const base = result();
    const noDisk = formatBacklogReport([{ big: result({ window: { ...base.window, disk: undefined } }) }], {
      ...options,
      rounds: 1,
      quick: true,
    });
    expect(noDisk).toContain("- the disk: not a block device under the environment's state");
  });

  it('lists the requests per run by kind, with totals per server', () => {
    const report = formatBacklogReport([{ big: result() }], { ...options, rounds: 1, quick: true });
    expect(report).toContain('registry HEAD manifest | 3.00');
    expect(report).toContain('registry, all | 5.00');
    expect(report).toContain('kube, all | 1.00');
  });

  it('adds up the CPU per run of every process and derives what the machine allows', () => {
    const report = formatBacklogReport([{ big: result() }], { ...options, rounds: 1, quick: true });
    expect(report).toContain('10000 | 20.0 | 30.0 | 20.0 | 5.0 | 5.0 | 80.0 | 0.92');
    const n = cpus().length;
    // n cores give n × 1000 ms of CPU per second: n × 12.5 runs/s at 80 ms per run
    expect(report).toContain(
      `≤ ${(n * 12.5).toFixed(1)} runs/s; drained 10.0 = ${(10 / (n * 12.5)).toFixed(2)} of that`,
    );
    expect(report).toContain(
      'registry 40.0, kube-apiserver 15.0, etcd 5.0 and the client 12.0 ms of CPU per run',
    );
    expect(report).toContain(`≤ ${((n * 1000) / 72).toFixed(1)} runs/s if the machine did only that`);
    expect(report).toContain('the replay itself went at 24.5 runs/s with the machine 0.86 busy');
    expect(report).toContain('manifest PUT, nothing else): 50 pushes/s with the machine 0.84 busy');
    expect(report).toContain(
      "0.350 ms of client CPU with the observer's RegistryClient, 0.300 ms with undici's request() alone",
    );
  });

  it("adds the profiled round's breakdown beside the rounds' own observer CPU, or none without one", () => {
    const one = { ...options, rounds: 1, quick: true };
    const profiled = result({ cpuMsPerRun: 23.4, profile: 'busy 70.2 s = 23.4 ms/run over 3000 runs' });
    const report = formatBacklogReport([{ big: result() }], one, profiled);
    expect(report).toContain(
      "observer CPU 23.4 ms per run with the profiler's overhead, against 20.0 in the rounds",
    );
    expect(report).toContain('```\nbusy 70.2 s = 23.4 ms/run over 3000 runs\n```');
    expect(formatBacklogReport([{ big: result() }], one)).not.toContain('profiled drain');
  });
});
