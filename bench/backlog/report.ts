import { cpus } from 'node:os';
import type { BacklogOptions } from './args.ts';
import type { ScenarioResult } from './scenario.ts';

/** One round of the bench: the N-run drain, and the N/10 one that shows what grows with N. */
export interface BacklogRound {
  big: ScenarioResult;
  small?: ScenarioResult;
}

/** The servers a drain uses (postgres and the token registry idle), in the report's column order. */
export const SERVERS = ['registry', 'kube-apiserver', 'etcd'] as const;
const COLUMNS = ['observer', ...SERVERS, 'bench'] as const;

const MB = 1.048576; // MB per MiB

/**
 * Issue 24's goals, one row each: the value in every round, the goal, and whether every round met
 * it. A goal the bench cannot measure in this invocation (growth under --quick) says so.
 */
interface Goal {
  measure: string;
  value: (r: BacklogRound) => number | undefined;
  show: (v: number) => string;
  goal: string;
  met: (v: number, r: BacklogRound) => boolean;
}

const totalCpu = (r: ScenarioResult) => COLUMNS.reduce((sum, c) => sum + (r.machineCpuMsPerRun[c] ?? 0), 0);

const GOALS: Goal[] = [
  {
    measure: 'CPU of the whole machine used during the drain (observer, servers, bench)',
    value: (r) => r.big.window.processShare,
    show: (v) => v.toFixed(2),
    goal: '≥ 0.90, with fresh p99 ≤ 2 s',
    met: (v, r) => v >= 0.9 && r.big.fresh.p99Ms <= 2000,
  },
  {
    measure: 'CPU per attested run, all processes',
    value: (r) => totalCpu(r.big),
    show: (v) => `${v.toFixed(1)} ms`,
    goal: '≤ 85 ms',
    met: (v) => v <= 85,
  },
  {
    measure: 'observer CPU per attested run',
    value: (r) => r.big.cpuMsPerRun,
    show: (v) => `${v.toFixed(1)} ms`,
    goal: '≤ 10 ms',
    met: (v) => v <= 10,
  },
  {
    measure: 'fresh completion → signed p99 during the drain',
    value: (r) => r.big.fresh.p99Ms,
    show: (v) => `${v.toFixed(0)} ms`,
    goal: '≤ 2000 ms',
    met: (v) => v <= 2000,
  },
  {
    measure: 'observer peak RSS',
    value: (r) => r.big.rssMiB.peak * MB,
    show: (v) => `${v.toFixed(0)} MB`,
    goal: '≤ 160 MB',
    met: (v) => v <= 160,
  },
  {
    measure: 'peak RSS growth N/10 → N runs',
    value: (r) => (r.small ? (r.big.rssMiB.peak - r.small.rssMiB.peak) * MB : undefined),
    show: (v) => `${v.toFixed(1)} MB`,
    goal: '≤ 20 MB',
    met: (v) => v <= 20,
  },
];

export function formatBacklogReport(
  rounds: BacklogRound[],
  options: BacklogOptions,
  profiled?: ScenarioResult,
): string {
  const names = rounds.map((_, i) => `round ${i + 1}`);
  const goalRows = GOALS.map((g) => {
    const values = rounds.map((r) => g.value(r));
    const measured = values.every((v) => v !== undefined);
    const met = measured ? rounds.every((r, i) => g.met(values[i] as number, r)) : undefined;
    const shown = values.map((v) => (v === undefined ? 'not measured (--quick)' : g.show(v)));
    return `${g.measure} | ${shown.join(' | ')} | ${g.goal} | ${met === undefined ? 'n/a' : met ? 'yes' : 'no'}`;
  });
  const last = rounds[rounds.length - 1];
  const drains = rounds.flatMap((r) => (r.small ? [r.small, r.big] : [r.big]));
  return [
    `goals at ${options.runs} runs, ${rounds.length} round(s); a goal is met when every round meets it:`,
    '',
    `measure | ${names.join(' | ')} | goal | goal met`,
    `---|${names.map(() => '---').join('|')}|---|---`,
    ...goalRows,
    `(whole machine busy per /proc/stat, any process) | ${rounds.map((r) => r.big.window.busyShare.toFixed(2)).join(' | ')} | | `,
    `(whole machine idle waiting for the disk, iowait) | ${rounds.map((r) => r.big.window.iowaitShare.toFixed(2)).join(' | ')} | | `,
    '',
    'every drain, in order:',
    '',
    ...drainTable(drains),
    '',
    `CPU ms per attested run by process, in the drain window (readiness → last seeded run signed; ${cpus().length} cores = ${cpus().length * 1000} ms of CPU per second):`,
    '',
    ...cpuTable(drains),
    '',
    `requests the observer sent per attested run, by kind (its own counters; drain window):`,
    '',
    ...requestTable(drains),
    '',
    ...bounds(last.big),
    ...(profiled ? ['', ...profiledRound(profiled, rounds)] : []),
  ].join('\n');
}

/** Where the observer's CPU went in a profiled drain's window, beside the rounds' own figure. */
function profiledRound(r: ScenarioResult, rounds: BacklogRound[]): string[] {
  const plain = rounds.map((x) => x.big.cpuMsPerRun.toFixed(1)).join(' / ');
  return [
    `where the observer's CPU goes, by our code (a profiled drain of ${r.runs} runs after the rounds, the same drain window: ${r.window.signed} runs signed in ${r.window.seconds.toFixed(0)} s; observer CPU ${r.cpuMsPerRun.toFixed(1)} ms per run with the profiler's overhead, against ${plain} in the rounds; each sample is charged to the nearest frame of ours on its stack, bench/backlog/profile-by-module.ts):`,
    '',
    '```',
    r.profile ?? 'no profile was written',
    '```',
  ];
}

function drainTable(drains: ScenarioResult[]): string[] {
  return [
    'runs | workers | patch limit /s | push limit /s | drained runs/s | window s (runs signed) | fresh p50 / p99 ms | RSS MiB idle / start / peak / end',
    '---|---|---|---|---|---|---|---',
    ...drains.map((r) =>
      [
        r.runs,
        r.workers,
        r.limits.patchPerSecond.toFixed(0),
        r.limits.pushPerSecond.toFixed(0),
        `${r.drainPerSecond.toFixed(1)} (${r.signed}/${r.runs}, ${r.failed} failed)`,
        `${r.window.seconds.toFixed(0)} (${r.window.signed})`,
        `${fmt(r.fresh.p50Ms)} / ${fmt(r.fresh.p99Ms)} (${r.fresh.count}${r.fresh.unsigned ? `, ${r.fresh.unsigned} unsigned` : ''})`,
        `${r.rssMiB.idle.toFixed(0)} / ${r.rssMiB.start.toFixed(0)} / ${r.rssMiB.peak.toFixed(0)} / ${r.rssMiB.end.toFixed(0)}`,
      ].join(' | '),
    ),
  ];
}

function cpuTable(drains: ScenarioResult[]): string[] {
  return [
    `runs | ${COLUMNS.join(' | ')} | total | machine share`,
    `---|${COLUMNS.map(() => '---').join('|')}|---|---`,
    ...drains.map((r) =>
      [
        r.runs,
        ...COLUMNS.map((c) => (r.machineCpuMsPerRun[c] ?? 0).toFixed(1)),
        totalCpu(r).toFixed(1),
        r.window.processShare.toFixed(2),
      ].join(' | '),
    ),
  ];
}

function requestTable(drains: ScenarioResult[]): string[] {
  const kinds = [...new Set(drains.flatMap((r) => Object.keys(r.requestsPerRun)))].sort();
  const total = (r: ScenarioResult, prefix: string) =>
    Object.entries(r.requestsPerRun)
      .filter(([k]) => k.startsWith(prefix))
      .reduce((sum, [, n]) => sum + n, 0);
  return [
    `kind | ${drains.map((r) => `${r.runs} runs`).join(' | ')}`,
    `---|${drains.map(() => '---').join('|')}`,
    ...kinds.map((k) => `${k} | ${drains.map((r) => (r.requestsPerRun[k] ?? 0).toFixed(2)).join(' | ')}`),
    `registry, all | ${drains.map((r) => total(r, 'registry ').toFixed(2)).join(' | ')}`,
    `kube, all | ${drains.map((r) => total(r, 'kube ').toFixed(2)).join(' | ')}`,
  ];
}

/** What the measured CPU per run allows the machine, and what one run's requests alone cost. */
function bounds(big: ScenarioResult): string[] {
  const cores = cpus().length;
  const replay = big.limits.cpuPerRunRequestsMs;
  const requestsOnly = SERVERS.reduce((sum, c) => sum + (replay[c] ?? 0), 0) + (replay.bench ?? 0);
  const ceiling = (cores * 1000) / Math.max(1e-9, totalCpu(big));
  const ms = (name: string) => (replay[name] ?? 0).toFixed(1);
  return [
    `what bounds the drain at ${big.runs} runs (last round):`,
    `- the machine doing nothing but this drain, at the CPU per run measured in it: ≤ ${ceiling.toFixed(1)} runs/s; drained ${big.drainPerSecond.toFixed(1)} = ${(big.drainPerSecond / ceiling).toFixed(2)} of that`,
    `- one run's requests (${big.registryRequestsPerRun.toFixed(1)} registry requests, and the apiserver requests above), replayed by the observer's own clients in 16 loops in a process started like it, with nothing else of its work: registry ${ms('registry')}, kube-apiserver ${ms('kube-apiserver')}, etcd ${ms('etcd')} and the client ${ms('bench')} ms of CPU per run; ≤ ${((cores * 1000) / Math.max(1e-9, requestsOnly)).toFixed(1)} runs/s if the machine did only that; the replay itself went at ${big.limits.replay.perSecond.toFixed(1)} runs/s with the machine ${big.limits.replay.busyShare.toFixed(2)} busy (the requests alone, no settle wait, no other work)`,
    `- the observer's CPU beyond its clients' requests: ${(big.cpuMsPerRun - (replay.bench ?? 0)).toFixed(1)} of its ${big.cpuMsPerRun.toFixed(1)} ms per run (statement, signature, index, watch, scheduling)`,
    `- the registry's push limit (16 loops of two blob uploads and a manifest PUT, nothing else): ${big.limits.pushPerSecond.toFixed(0)} pushes/s with the machine ${big.limits.pushBusyShare.toFixed(2)} busy`,
    `- a manifest GET, from the same loops after the replay: ${big.limits.replay.getMs.registryClient.toFixed(3)} ms of client CPU with the observer's RegistryClient, ${big.limits.replay.getMs.undici.toFixed(3)} ms with undici's request() alone (the floor for any client on undici here)`,
    diskLine(big),
  ];
}

/** What the disk under the environment's state (registry blobs, etcd's WAL, the index) did per run. */
function diskLine(big: ScenarioResult): string {
  const d = big.window.disk;
  const iowait = `the machine idle waiting for it ${big.window.iowaitShare.toFixed(2)} of the window`;
  if (!d) return `- the disk: not a block device under the environment's state (${iowait})`;
  const perRun = (n: number) => (n / big.window.signed).toFixed(1);
  return `- the disk (${d.device}, under the registry's blobs, etcd's WAL and the index): ${perRun(d.writes)} writes and ${perRun(d.flushes)} cache flushes (fsyncs) per run, ${(d.flushes / big.window.seconds).toFixed(0)} flushes/s; busy ${d.busyShare.toFixed(2)} of the window, ${iowait}`;
}

const fmt = (ms: number) => (Number.isNaN(ms) ? 'n/a' : ms.toFixed(0));
