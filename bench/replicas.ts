import { generateKeyPairSync } from 'node:crypto';
import { kubeConfigFor, loadLocalEnv, up } from '../test/env/index.ts';
import { putSigningSecret } from '../test/helpers/observer.ts';
import { ScratchDatabases } from '../test/helpers/postgres.ts';
import { deleteAllRuns } from '../test/helpers/tekton.ts';
import { completeTaskRun, createNamespace } from './backlog/cluster.ts';
import { forEachLimited, ImageFactory } from './backlog/images.ts';
import { ObserverProcess } from './backlog/observer-process.ts';
import { SignedTracker } from './backlog/signed-tracker.ts';

/**
 * `npm run bench -- replicas [--runs N] [--workers W]`: the same backlog — N completed TaskRuns,
 * each with its own pushed image, in a namespace of its own — drained on the real local environment
 * by 1 observer on SQLite, 1 on PostgreSQL and 3 on PostgreSQL (each its own process, sharing runs
 * through the index's claims), one after the other in the same run. Prints each drain rate (runs
 * signed per second, from the first process's start to the last run signed) and the ratios.
 */
interface Setup {
  runs: number;
  workers: number;
  timeoutMs: number;
}

interface Result {
  label: string;
  replicas: number;
  seconds: number;
  signed: number;
  failed: number;
}

const TIMEOUT_MS = 600_000;

export async function runReplicasBench(args: readonly string[]): Promise<string> {
  const setup = parseArgs(args);
  await up((line) => console.error(`[env] ${line}`), 'cli');
  const env = loadLocalEnv();
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  await putSigningSecret(env, { 'x509.pem': privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() });
  const databases = new ScratchDatabases(env.postgresUrl);
  const results: Result[] = [];
  try {
    const scenarios: { label: string; replicas: number; index: () => Promise<Record<string, string>> }[] = [
      { label: 'SQLite', replicas: 1, index: async () => ({}) },
      { label: 'PostgreSQL', replicas: 1, index: async () => pgIndex(await databases.create()) },
      { label: 'PostgreSQL', replicas: 3, index: async () => pgIndex(await databases.create()) },
    ];
    for (const s of scenarios) results.push(await drain(env, setup, s.label, s.replicas, await s.index()));
  } finally {
    await databases.dropAll();
  }
  return report(results, setup);
}

const pgIndex = (url: string) => ({ 'index.url': url, 'index.tls-mode': 'disable' });

async function drain(
  env: ReturnType<typeof loadLocalEnv>,
  setup: Setup,
  label: string,
  replicas: number,
  index: Record<string, string>,
): Promise<Result> {
  const admin = kubeConfigFor('admin');
  const ns = `replicas-${replicas}-${label.toLowerCase()}-${Date.now().toString(36)}`;
  await createNamespace(admin, ns);
  const images = new ImageFactory({ registry: env.registry, repository: `bench/${ns}` });
  const names = Array.from({ length: setup.runs }, (_, i) => `run-${i}`);
  console.error(`[replicas] ${label} × ${replicas}: seeding ${setup.runs} completed TaskRuns in ${ns}`);
  await forEachLimited(setup.runs, 16, async (i) => {
    await completeTaskRun(admin, ns, names[i], await images.push(names[i]));
  });
  const tracker = new SignedTracker({ kubeConfig: admin, namespace: ns });
  tracker.start();
  const config = {
    ...index,
    'observer.namespaces': ns,
    'controller.workers': String(setup.workers),
    'storage.oci.insecure-registries': env.registry,
    'storage.oci.allowed-private-registries': '127.0.0.1',
  };
  const started = Date.now();
  const observers: ObserverProcess[] = [];
  try {
    for (let r = 0; r < replicas; r++)
      observers.push(await ObserverProcess.start({ kubeconfig: env.kubeconfigs.observer, config }));
    const done = () => names.every((n) => tracker.signedAt.has(n) || tracker.failed.has(n));
    await Promise.race([
      tracker.until(done),
      new Promise((r) => setTimeout(r, setup.timeoutMs).unref()), // a bound on the bench, not a wait for state
    ]);
    const last = Math.max(started, ...names.map((n) => tracker.signedAt.get(n) ?? 0));
    const result = {
      label,
      replicas,
      seconds: (last - started) / 1000,
      signed: names.filter((n) => tracker.signedAt.has(n)).length,
      failed: tracker.failed.size,
    };
    console.error(
      `[replicas] ${label} × ${replicas}: ${result.signed} signed in ${result.seconds.toFixed(1)} s`,
    );
    return result;
  } finally {
    tracker.stop();
    await Promise.all(observers.map((o) => o.stop()));
    await deleteAllRuns(admin, ns); // observers started later (tests) must not inherit this backlog
  }
}

function report(results: Result[], setup: Setup): string {
  const rate = (r: Result) => r.signed / Math.max(0.001, r.seconds);
  const [sqlite, pg1, pg3] = results;
  const rows = results.map(
    (r) =>
      `${r.label} | ${r.replicas} | ${r.signed}/${setup.runs}${r.failed ? ` (${r.failed} failed)` : ''} | ${r.seconds.toFixed(1)} | ${rate(r).toFixed(2)}`,
  );
  return [
    `${setup.runs} completed TaskRuns per scenario, ${setup.workers} workers per replica, each replica its own process`,
    '',
    'index | replicas | signed | seconds (start → last signed) | runs/s',
    '---|---|---|---|---',
    ...rows,
    '',
    `- 3 replicas / 1 replica on PostgreSQL: ${(rate(pg3) / rate(pg1)).toFixed(2)}`,
    `- 1 replica PostgreSQL / 1 replica SQLite: ${(rate(pg1) / rate(sqlite)).toFixed(2)}`,
    `- 3 replicas PostgreSQL / 1 replica SQLite: ${(rate(pg3) / rate(sqlite)).toFixed(2)}`,
  ].join('\n');
}

function parseArgs(args: readonly string[]): Setup {
  const setup: Setup = { runs: 300, workers: 4, timeoutMs: TIMEOUT_MS };
  for (let i = 0; i < args.length; i += 2) {
    const value = Number(args[i + 1]);
    if (!['--runs', '--workers'].includes(args[i]) || !Number.isInteger(value) || value < 1)
      throw new Error(`replicas: usage [--runs N] [--workers W] (whole numbers ≥ 1); got ${args.join(' ')}`);
    if (args[i] === '--runs') setup.runs = value;
    else setup.workers = value;
  }
  return setup;
}
