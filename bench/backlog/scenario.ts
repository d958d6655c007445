import { cpus } from 'node:os';
import { dirname } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { ENV_FILE } from '../../test/env/index.ts';
import { completeTaskRun, createNamespace, deleteNamespace } from './cluster.ts';
import { CpuMeter, type DiskActivity, DiskMeter, MachineBusyMeter } from './cpu-meter.ts';
import { forEachLimited, ImageFactory } from './images.ts';
import { type Limits, measureLimits } from './limits.ts';
import { memoryLine } from './memory-line.ts';
import { ObserverProcess } from './observer-process.ts';
import { profileByModule, readProfile, wallSpan } from './profile-by-module.ts';
import { SignedTracker } from './signed-tracker.ts';
import { stageMeansLine, stageTotals } from './stage-times.ts';

export interface ScenarioSetup {
  admin: KubeConfig;
  observer: KubeConfig;
  observerKubeconfigPath: string;
  registry: string;
  runs: number;
  /** controller.workers; undefined = the observer's default */
  workers?: number;
  /** further observer configuration (--set key=value) */
  config?: Record<string, string>;
  freshEverySeconds: number;
  /** stop measuring the drain after so many minutes (the row then says how many were drained) */
  drainMinutes?: number;
  log: (line: string) => void;
  /** the compiled observer (buildObserver) */
  main: string;
  /** node flags of the observer process (deploy/'s heap settings) */
  nodeOptions: string[];
  /** further environment of the observer process (deploy/'s plain variables) */
  observerEnv: Record<string, string>;
  /** the environment's servers' PIDs by name (test/env daemonPids), for CPU per run by process */
  pids: Record<string, number>;
  /** further observer config keys (e.g. a PKCS#11 signer: bench/signing-drain.ts); default none */
  extraConfig?: Record<string, string>;
  /**
   * profile the draining observer (--cpu-prof into this directory): the result's `profile` then
   * says where its CPU went in the drain window, by folder, file and function of our code
   */
  profileDir?: string;
}

export interface ScenarioResult {
  runs: number;
  workers: string;
  limits: Limits;
  seedPerSecond: number;
  /** seeded runs signed per second, from the observer's start to the last one signed */
  drainPerSecond: number;
  drainSeconds: number;
  signed: number;
  failed: number;
  fresh: {
    count: number;
    p50Ms: number;
    p99Ms: number;
    unsigned: number;
    /** the three slowest: seconds after the observer was spawned that the run completed, and its latency */
    slowest: { afterSpawnS: number; ms: number }[];
  };
  rssMiB: { idle: number; start: number; peak: number; end: number };
  cpuMsPerRun: number;
  /**
   * CPU per run signed in the same window, by process: the servers (pids), `bench` (this process:
   * fresh runs and the tracker's watch) and `observer` (= cpuMsPerRun)
   */
  machineCpuMsPerRun: Record<string, number>;
  /** the observer's registry requests (its metrics) per run signed */
  registryRequestsPerRun: number;
  /**
   * The drain window, from the observer's readiness to the last seeded run signed: its length,
   * the runs signed in it (seeded and fresh), the share of the machine's CPU the named processes
   * used (observer, servers, bench: their CPU ÷ cores × seconds) and the share /proc/stat says was
   * busy (any process; the same on a machine doing nothing else), the share it says was idle
   * waiting for the disk (iowait), and what the disk under the environment's state did.
   */
  window: {
    seconds: number;
    signed: number;
    processShare: number;
    busyShare: number;
    iowaitShare: number;
    disk?: DiskActivity;
  };
  /**
   * Requests the observer sent per run signed in the window, by kind, from its own counters:
   * `registry <METHOD> <kind>` (registry_requests_total) and `kube <verb> <resource>`
   * (kube_requests_total).
   */
  requestsPerRun: Record<string, number>;
  /** with `profileDir`: the observer's CPU in the drain window by our code (profile-by-module.ts) */
  profile?: string;
}

const STALL_MS = 180_000;

/** One measured drain: seed N runs, measure the limits, start the observer, feed fresh runs, wait. */
export async function runScenario(s: ScenarioSetup): Promise<ScenarioResult> {
  const ns = `bench-${s.runs}-${Date.now().toString(36)}`;
  await createNamespace(s.admin, ns);
  await createNamespace(s.admin, `${ns}-idle`);
  const images = new ImageFactory({ registry: s.registry, repository: `bench/${ns}` });
  const names = Array.from({ length: s.runs }, (_, i) => `run-${i}`);
  s.log(`seeding ${s.runs} completed TaskRuns with their own images in ${ns}`);
  const seedStart = performance.now();
  await forEachLimited(s.runs, 32, async (i) => {
    await completeTaskRun(s.admin, ns, names[i], await images.push(names[i]));
  });
  const seedPerSecond = s.runs / ((performance.now() - seedStart) / 1000);
  s.log(`seeded at ${seedPerSecond.toFixed(0)} runs/s`);
  s.log('measuring the apiserver patch limit and the registry push limit');
  const limits = await measureLimits({
    observer: s.observer,
    observerKubeconfigPath: s.observerKubeconfigPath,
    nodeOptions: s.nodeOptions,
    env: s.observerEnv,
    namespace: ns,
    runNames: names.slice(0, 200),
    registry: s.registry,
    pids: s.pids,
  });
  const config = (namespace: string) => ({
    'observer.namespaces': namespace,
    'storage.oci.insecure-registries': s.registry,
    'storage.oci.allowed-private-registries': '127.0.0.1',
    ...(s.workers ? { 'controller.workers': String(s.workers) } : {}),
    ...s.extraConfig,
    ...s.config,
  });
  const idle = await idleRss(s, config(`${ns}-idle`));
  const tracker = new SignedTracker({ kubeConfig: s.admin, namespace: ns });
  tracker.start();
  s.log(`starting the observer over ${s.runs} runs`);
  const spawnedAt = Date.now();
  const observer = await ObserverProcess.start({
    kubeconfig: s.observerKubeconfigPath,
    config: config(ns),
    main: s.main,
    nodeOptions: [...s.nodeOptions, ...extraNodeOptions(), ...profileOptions(s.profileDir)],
    env: s.observerEnv,
  });
  let result: ScenarioResult;
  let windowAt: { from: number; to: number; signed: number };
  try {
    await observer.ready();
    const start = observer.rssMiB() ?? 0;
    const readyMetrics = await observer.metrics();
    const atReady = {
      cpu: observer.cpuSeconds(),
      signed: tracker.signedAt.size,
      at: Date.now(),
      requests: requestCounts(readyMetrics),
      stages: stageTotals(readyMetrics),
    };
    const meter = new CpuMeter(s.pids);
    const busy = new MachineBusyMeter();
    const disk = new DiskMeter(dirname(ENV_FILE));
    const limitSamples: number[] = [];
    const sampler = setInterval(() => {
      observer
        .metrics()
        .then((text) => {
          const m = /^\w+_backlog_concurrency_limit (\S+)$/m.exec(text);
          if (m) limitSamples.push(Number(m[1]));
        })
        .catch(() => {});
    }, 1000);
    const fresh = new Map<string, number>();
    let feeding = true;
    const feeder = (async () => {
      for (let k = 0; feeding; k++) {
        const name = `fresh-${k}`;
        const image = await images.push(name);
        fresh.set(name, await completeTaskRun(s.admin, ns, name, image));
        await new Promise((r) => setTimeout(r, s.freshEverySeconds * 1000));
      }
    })();
    const seededDone = () => names.every((n) => tracker.signedAt.has(n) || tracker.failed.has(n));
    await untilOrStalled(tracker, seededDone, s.log, s.drainMinutes);
    // the drain window ends here: every figure per run is over the runs signed in it
    const endMetrics = await observer.metrics();
    const atEnd = {
      cpu: observer.cpuSeconds(),
      signed: tracker.signedAt.size,
      at: Date.now(),
      machine: meter.read(),
      busy: busy.read(),
      disk: disk.read(),
      requests: requestCounts(endMetrics),
    };
    clearInterval(sampler);
    s.log(`  backlog concurrency limit, sampled every second: ${limitSamples.join(' ')}`);
    const parts = observer.rssPartsMiB();
    s.log(
      `  observer memory at the end of the drain window: ${memoryLine(endMetrics)}; resident anonymous ${parts?.anon.toFixed(1)} MiB, mapped files ${parts?.file.toFixed(1)} MiB`,
    );
    s.log(
      `  attempt time by stage (mean per observation): ${stageMeansLine(atReady.stages, stageTotals(endMetrics))}`,
    );
    feeding = false;
    await feeder;
    await Promise.race([
      tracker.until(() => [...fresh.keys()].every((n) => tracker.signedAt.has(n))),
      new Promise((r) => setTimeout(r, 30_000)),
    ]);
    const signedInWindow = Math.max(1, atEnd.signed - atReady.signed);
    const windowSeconds = Math.max(0.001, (atEnd.at - atReady.at) / 1000);
    const observerMs = (atEnd.cpu - atReady.cpu) * 1000;
    const processMs = observerMs + Object.values(atEnd.machine).reduce((a, b) => a + b, 0);
    const requestsPerRun = Object.fromEntries(
      Object.entries(atEnd.requests)
        .map(([kind, n]) => [kind, (n - (atReady.requests[kind] ?? 0)) / signedInWindow] as const)
        .filter(([, n]) => n > 0),
    );
    windowAt = { from: atReady.at, to: atEnd.at, signed: signedInWindow };
    const lastSeeded = Math.max(...names.map((n) => tracker.signedAt.get(n) ?? 0));
    const signed = names.filter((n) => tracker.signedAt.has(n)).length;
    const timed = [...fresh].flatMap(([n, at]) => {
      const signedAt = tracker.signedAt.get(n);
      return signedAt === undefined ? [] : [{ afterSpawnS: (at - spawnedAt) / 1000, ms: signedAt - at }];
    });
    const latencies = timed.map((t) => t.ms);
    result = {
      runs: s.runs,
      workers: s.workers ? String(s.workers) : 'default',
      limits,
      seedPerSecond,
      drainSeconds: (lastSeeded - spawnedAt) / 1000,
      drainPerSecond: signed / ((lastSeeded - spawnedAt) / 1000),
      signed,
      failed: tracker.failed.size,
      fresh: {
        count: fresh.size,
        p50Ms: percentile(latencies, 0.5),
        p99Ms: percentile(latencies, 0.99),
        unsigned: fresh.size - latencies.length,
        slowest: timed.sort((a, b) => b.ms - a.ms).slice(0, 3),
      },
      rssMiB: { idle, start, peak: observer.peakRssMiB(), end: observer.rssMiB() ?? 0 },
      cpuMsPerRun: observerMs / signedInWindow,
      machineCpuMsPerRun: {
        ...Object.fromEntries(Object.entries(atEnd.machine).map(([name, ms]) => [name, ms / signedInWindow])),
        observer: observerMs / signedInWindow,
      },
      registryRequestsPerRun: Object.entries(requestsPerRun)
        .filter(([kind]) => kind.startsWith('registry '))
        .reduce((sum, [, n]) => sum + n, 0),
      window: {
        seconds: windowSeconds,
        signed: signedInWindow,
        processShare: processMs / (cpus().length * 1000 * windowSeconds),
        busyShare: atEnd.busy.busy,
        iowaitShare: atEnd.busy.iowait,
        disk: atEnd.disk,
      },
      requestsPerRun,
    };
  } finally {
    tracker.stop();
    await observer.stop();
    await Promise.all([deleteNamespace(s.admin, ns), deleteNamespace(s.admin, `${ns}-idle`)]).catch((err) =>
      s.log(`could not delete ${ns}: ${(err as Error).message}`),
    );
  }
  // the profile ended when the observer exited, which observer.stop() awaited
  const endedAt = Date.now();
  if (s.profileDir) result.profile = windowProfile(s.profileDir, observer.child.pid ?? 0, endedAt, windowAt);
  return result;
}

/** The profile the observer with `pid` wrote into `dir`, over the drain window's samples and runs. */
function windowProfile(
  dir: string,
  pid: number,
  endedAtMs: number,
  window: { from: number; to: number; signed: number },
): string {
  const profile = readProfile(dir, pid);
  return profileByModule(profile, window.signed, 15, wallSpan(profile, endedAtMs, window.from, window.to));
}

/**
 * BENCH_PROFILE_DIR=<dir>: the draining observer writes a CPU profile (--cpu-prof) there on exit,
 * and a heap snapshot on SIGUSR2 (--heapsnapshot-signal), for finding where the time goes.
 */
function profileOptions(profileDir: string | undefined): string[] {
  const dir = profileDir ?? process.env.BENCH_PROFILE_DIR;
  return dir
    ? ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${dir}`]
    : [];
}

/**
 * BENCH_NODE_OPTIONS="--max-semi-space-size=8 …": node flags added after deploy's for the draining
 * observer (the last of a flag wins), to compare heap settings; the report's header names deploy's.
 */
function extraNodeOptions(): string[] {
  return (process.env.BENCH_NODE_OPTIONS ?? '').split(/\s+/).filter(Boolean);
}

/** RSS of an observer watching an empty namespace, 3 s after it is ready. */
async function idleRss(s: ScenarioSetup, config: Record<string, string>): Promise<number> {
  const observer = await ObserverProcess.start({
    kubeconfig: s.observerKubeconfigPath,
    config,
    main: s.main,
    nodeOptions: [...s.nodeOptions, ...extraNodeOptions()],
    env: s.observerEnv,
  });
  try {
    await observer.ready();
    await new Promise((r) => setTimeout(r, 3000));
    return observer.rssMiB() ?? 0;
  } finally {
    await observer.stop();
  }
}

/** Waits for `done`, logging progress every 10 s; gives up when nothing was signed for STALL_MS. */
async function untilOrStalled(
  tracker: SignedTracker,
  done: () => boolean,
  log: (l: string) => void,
  minutes?: number,
) {
  let last = -1;
  let lastChange = Date.now();
  const end = minutes === undefined ? Number.POSITIVE_INFINITY : Date.now() + minutes * 60_000;
  while (!done()) {
    if (Date.now() > end) {
      log(`  ${minutes} min of drain measured (--drain-minutes); reporting what was drained`);
      return;
    }
    await Promise.race([tracker.until(done), new Promise((r) => setTimeout(r, 10_000))]);
    const now = tracker.signedAt.size + tracker.failed.size;
    if (now !== last) {
      last = now;
      lastChange = Date.now();
      log(`  ${tracker.signedAt.size} signed, ${tracker.failed.size} failed`);
    } else if (Date.now() - lastChange > STALL_MS) {
      log(`  no progress for ${STALL_MS / 1000} s; reporting what was drained`);
      return;
    }
  }
}

/**
 * The observer's request counters in Prometheus text, by kind: `registry <METHOD> <kind>` summed
 * over statuses, and `kube <verb> <resource>`.
 */
export function requestCounts(text: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^\w+_(registry|kube)_requests_total\{([^}]*)\} (\S+)$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...m[2].matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    const kind =
      m[1] === 'registry'
        ? `registry ${labels.method} ${labels.kind}`
        : `kube ${labels.verb} ${labels.resource}`;
    counts[kind] = (counts[kind] ?? 0) + Number(m[3]);
  }
  return counts;
}

function percentile(values: number[], p: number): number {
  if (!values.length) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}
