import type { KubeConfig } from '@kubernetes/client-node';
import { completeTaskRun, createNamespace, deleteNamespace } from './cluster.ts';
import { CpuMeter } from './cpu-meter.ts';
import { forEachLimited, ImageFactory } from './images.ts';
import { type Limits, measureLimits } from './limits.ts';
import { ObserverProcess } from './observer-process.ts';
import { SignedTracker } from './signed-tracker.ts';

export interface ScenarioSetup {
  admin: KubeConfig;
  observer: KubeConfig;
  observerKubeconfigPath: string;
  registry: string;
  runs: number;
  /** controller.workers; undefined = the observer's default */
  workers?: number;
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
    nodeOptions: [...s.nodeOptions, ...profileOptions()],
    env: s.observerEnv,
  });
  try {
    await observer.ready();
    const start = observer.rssMiB() ?? 0;
    const cpuAtReady = observer.cpuSeconds();
    const meter = new CpuMeter(s.pids);
    const signedAtReady = tracker.signedAt.size;
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
    feeding = false;
    await feeder;
    await Promise.race([
      tracker.until(() => [...fresh.keys()].every((n) => tracker.signedAt.has(n))),
      new Promise((r) => setTimeout(r, 30_000)),
    ]);
    const cpu = observer.cpuSeconds() - cpuAtReady;
    const machine = meter.read();
    const signedInWindow = Math.max(1, tracker.signedAt.size - signedAtReady);
    const registryRequests = sumCounter(await observer.metrics(), 'registry_requests_total');
    const lastSeeded = Math.max(...names.map((n) => tracker.signedAt.get(n) ?? 0));
    const signed = names.filter((n) => tracker.signedAt.has(n)).length;
    const timed = [...fresh].flatMap(([n, at]) => {
      const signedAt = tracker.signedAt.get(n);
      return signedAt === undefined ? [] : [{ afterSpawnS: (at - spawnedAt) / 1000, ms: signedAt - at }];
    });
    const latencies = timed.map((t) => t.ms);
    return {
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
      cpuMsPerRun: (cpu * 1000) / signedInWindow,
      machineCpuMsPerRun: {
        ...Object.fromEntries(Object.entries(machine).map(([name, ms]) => [name, ms / signedInWindow])),
        observer: (cpu * 1000) / signedInWindow,
      },
      registryRequestsPerRun: registryRequests / Math.max(1, tracker.signedAt.size),
    };
  } finally {
    tracker.stop();
    await observer.stop();
    await Promise.all([deleteNamespace(s.admin, ns), deleteNamespace(s.admin, `${ns}-idle`)]).catch((err) =>
      s.log(`could not delete ${ns}: ${(err as Error).message}`),
    );
  }
}

/**
 * BENCH_PROFILE_DIR=<dir>: the draining observer writes a CPU profile (--cpu-prof) there on exit,
 * and a heap snapshot on SIGUSR2 (--heapsnapshot-signal), for finding where the time goes.
 */
function profileOptions(): string[] {
  const dir = process.env.BENCH_PROFILE_DIR;
  return dir
    ? ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${dir}`]
    : [];
}

/** RSS of an observer watching an empty namespace, 3 s after it is ready. */
async function idleRss(s: ScenarioSetup, config: Record<string, string>): Promise<number> {
  const observer = await ObserverProcess.start({
    kubeconfig: s.observerKubeconfigPath,
    config,
    main: s.main,
    nodeOptions: s.nodeOptions,
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

/** The sum of a counter's samples over all its labels in Prometheus text. */
function sumCounter(text: string, suffix: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^(\w+)(?:\{[^}]*\})? (\S+)$/.exec(line);
    if (m?.[1].endsWith(suffix)) sum += Number(m[2]);
  }
  return sum;
}

function percentile(values: number[], p: number): number {
  if (!values.length) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}
