import type { KubeConfig } from '@kubernetes/client-node';
import { Client } from 'pg';
import { layerCount } from '../../test/helpers/registry-layers.ts';
import { completeTaskRun, createNamespace, deleteNamespace } from '../backlog/cluster.ts';
import { forEachLimited, ImageFactory } from '../backlog/images.ts';
import { ObserverProcess } from '../backlog/observer-process.ts';
import { chargeByModule, type ModuleCharges, readProfile, wallSpan } from '../backlog/profile-by-module.ts';
import { SignedTracker } from '../backlog/signed-tracker.ts';
import { apiserverRequests, requestsSince } from './apiserver-requests.ts';
import { activitySince, type PgActivity, pgActivity } from './pg-activity.ts';
import { TreeCpuMeter } from './tree-cpu.ts';

export interface ReplicaSetup {
  admin: KubeConfig;
  apiserver: { server: string; adminToken: string };
  observerKubeconfigPath: string;
  registry: string;
  runs: number;
  /** controller.workers; undefined = the observer's default */
  workers?: number;
  /** the compiled observer, deploy/'s node flags and plain environment */
  main: string;
  nodeOptions: string[];
  observerEnv: Record<string, string>;
  /** the environment's servers' PIDs by name (each measured with its process tree) */
  pids: Record<string, number>;
  log: (line: string) => void;
  timeoutMs: number;
  /** CPU ms one observer uses to start and become ready on an empty namespace (startupCpuMs) */
  startupCpuMs: number;
  /** run the replicas under --cpu-prof into this directory: the result's `charges` say where their CPU went */
  profileDir?: string;
}

export interface ReplicaResult {
  replicas: number;
  /** runs signed in the measured window: from before the first spawn to the end of the drain */
  signedInWindow: number;
  signed: number;
  failed: number;
  seconds: number;
  /** CPU ms per run signed in the window, by process; `observers` summed over the replicas */
  cpuMsPerRun: Record<string, number>;
  apiserverPerRun: Record<string, number>;
  registryPerRun: number;
  pg: PgActivity;
  /** provenance_observer_runs_attested_total summed over the replicas (each attests a run once) */
  attestedByObservers: number;
  /** runs with status attested in the index */
  attestedInIndex: number;
  /** images whose .att and .sig each hold exactly one layer; the others, described */
  exactImages: number;
  wrongImages: string[];
  /** with `profileDir`: the replicas' CPU in the measured window by our code, summed over them */
  charges?: ModuleCharges;
}

/** Runs signed after the drain ends leave this long for the replicas' trailing work (echoes, requeues). */
const SETTLE_MS = 3000;

/**
 * One drain on a fresh PostgreSQL database: N completed TaskRuns (each with its own image) seeded
 * first, then `replicas` observer processes; measured from the moment all are ready to the last
 * run signed (plus SETTLE_MS): CPU of every process, apiserver requests, PostgreSQL activity.
 */
export async function drainWithReplicas(
  s: ReplicaSetup,
  replicas: number,
  databaseUrl: string,
): Promise<ReplicaResult> {
  const ns = `replicas-${replicas}-${Date.now().toString(36)}`;
  await createNamespace(s.admin, ns);
  const images = new ImageFactory({ registry: s.registry, repository: `bench/${ns}` });
  const names = Array.from({ length: s.runs }, (_, i) => `run-${i}`);
  const digests = new Map<string, string>();
  s.log(`${replicas} replica(s): seeding ${s.runs} completed TaskRuns in ${ns}`);
  await forEachLimited(s.runs, 16, async (i) => {
    const image = await images.push(names[i]);
    digests.set(names[i], image.digest);
    await completeTaskRun(s.admin, ns, names[i], image);
  });
  const tracker = new SignedTracker({ kubeConfig: s.admin, namespace: ns });
  tracker.start();
  const config = {
    'index.url': databaseUrl,
    'index.tls-mode': 'disable',
    'observer.namespaces': ns,
    'storage.oci.insecure-registries': s.registry,
    'storage.oci.allowed-private-registries': '127.0.0.1',
    ...(s.workers ? { 'controller.workers': String(s.workers) } : {}),
  };
  const observers: ObserverProcess[] = [];
  try {
    // measured from before the first spawn: the work a replica does before it is ready (the first
    // list: index look-ups, captures, Pod reads) is work per run too
    const before = {
      apiserver: await apiserverRequests(s.apiserver.server, s.apiserver.adminToken),
      pg: await pgActivity(databaseUrl),
      servers: new TreeCpuMeter(s.pids),
    };
    const started = Date.now();
    for (let r = 0; r < replicas; r++)
      observers.push(
        await ObserverProcess.start({
          kubeconfig: s.observerKubeconfigPath,
          config,
          main: s.main,
          nodeOptions: [
            ...s.nodeOptions,
            ...(s.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${s.profileDir}`] : []),
          ],
          env: s.observerEnv,
        }),
      );
    const done = () => names.every((n) => tracker.signedAt.has(n) || tracker.failed.has(n));
    await Promise.race([
      tracker.until(done),
      new Promise((r) => setTimeout(r, s.timeoutMs).unref()), // a bound on the bench, not a wait for state
    ]);
    const last = Math.max(started, ...names.map((n) => tracker.signedAt.get(n) ?? 0));
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const servers = before.servers.read();
    // each replica's start-up (measured alone on an empty namespace) is not per-run work
    const ownMs = observers.map((o) => o.cpuSeconds() * 1000);
    const observerMs = ownMs.reduce((sum, ms) => sum + ms - s.startupCpuMs, 0);
    const apiserver = requestsSince(
      before.apiserver,
      await apiserverRequests(s.apiserver.server, s.apiserver.adminToken),
    );
    const registry = await sumMetric(observers, 'registry_requests_total');
    const attestedByObservers = await sumMetric(observers, 'runs_attested_total');
    const inWindow = Math.max(1, tracker.signedAt.size);
    // a profile ends when its process exits, which stop() awaits
    const endedAt = await Promise.all(observers.map((o) => o.stop().then(() => Date.now())));
    const charges = s.profileDir
      ? windowCharges(s.profileDir, observers, endedAt, ownMs, { from: started, to: last + SETTLE_MS })
      : undefined;
    await new Promise((r) => setTimeout(r, 1500)); // exited backends have flushed their statistics
    const pg = activitySince(before.pg, await pgActivity(databaseUrl));
    const layers = await checkLayers(s.registry, `bench/${ns}`, digests);
    const perRun = (n: number) => n / inWindow;
    const cpu = { observers: observerMs, ...servers };
    const result: ReplicaResult = {
      replicas,
      signedInWindow: inWindow,
      signed: names.filter((n) => tracker.signedAt.has(n)).length,
      failed: tracker.failed.size,
      seconds: (last - started) / 1000,
      cpuMsPerRun: {
        ...Object.fromEntries(Object.entries(cpu).map(([k, ms]) => [k, perRun(ms)])),
        total: perRun(Object.values(cpu).reduce((a, b) => a + b, 0)),
      },
      apiserverPerRun: Object.fromEntries(Object.entries(apiserver).map(([k, n]) => [k, perRun(n)])),
      registryPerRun: perRun(registry),
      pg: {
        transactions: perRun(pg.transactions),
        rowsRead: perRun(pg.rowsRead),
        tables: Object.fromEntries(
          Object.entries(pg.tables).map(([t, d]) => [
            t,
            {
              inserted: perRun(d.inserted),
              updated: perRun(d.updated),
              deleted: perRun(d.deleted),
              seqRead: perRun(d.seqRead),
            },
          ]),
        ),
      },
      attestedByObservers,
      attestedInIndex: await attestedInIndex(databaseUrl),
      ...layers,
      ...(charges ? { charges } : {}),
    };
    s.log(
      `${replicas} replica(s): ${result.signed}/${s.runs} signed in ${result.seconds.toFixed(1)} s, ${result.cpuMsPerRun.total.toFixed(1)} ms CPU per run`,
    );
    return result;
  } finally {
    tracker.stop();
    await Promise.all(observers.map((o) => o.stop()));
    await deleteNamespace(s.admin, ns).catch((err) =>
      s.log(`could not delete ${ns}: ${(err as Error).message}`),
    );
  }
}

/**
 * The replicas' profiles over the measured window (wall clock, from before the first spawn), charged
 * to our code, each scaled to the CPU time /proc gave its process (`cpuMs`: three replicas on two
 * cores wait for the CPU, and a sampling profiler counts that wait as busy), and summed.
 */
function windowCharges(
  dir: string,
  observers: ObserverProcess[],
  endedAt: number[],
  cpuMs: number[],
  window: { from: number; to: number },
): ModuleCharges {
  return chargeByModule(
    observers.map((o, i) => {
      const profile = readProfile(dir, o.child.pid ?? 0);
      const span = wallSpan(profile, endedAt[i] ?? Date.now(), window.from, window.to);
      return { profile, span, cpuUs: (cpuMs[i] ?? 0) * 1000 };
    }),
  );
}

/** CPU ms of one observer from spawn to ready + 1 s on an empty namespace and a fresh database. */
export async function startupCpuMs(
  s: Omit<ReplicaSetup, 'startupCpuMs'>,
  databaseUrl: string,
): Promise<number> {
  const ns = `replicas-idle-${Date.now().toString(36)}`;
  await createNamespace(s.admin, ns);
  const observer = await ObserverProcess.start({
    kubeconfig: s.observerKubeconfigPath,
    config: { 'index.url': databaseUrl, 'index.tls-mode': 'disable', 'observer.namespaces': ns },
    main: s.main,
    nodeOptions: s.nodeOptions,
    env: s.observerEnv,
  });
  try {
    await observer.ready();
    await new Promise((r) => setTimeout(r, 1000));
    return observer.cpuSeconds() * 1000;
  } finally {
    await observer.stop();
    await deleteNamespace(s.admin, ns).catch(() => {});
  }
}

/** The sum over the replicas of a counter's samples (all labels) whose name ends in `suffix`. */
async function sumMetric(observers: ObserverProcess[], suffix: string): Promise<number> {
  let sum = 0;
  for (const o of observers)
    for (const line of (await o.metrics()).split('\n')) {
      const m = /^(\w+)(?:\{[^}]*\})? (\S+)$/.exec(line);
      if (m?.[1].endsWith(suffix)) sum += Number(m[2]);
    }
  return sum;
}

async function attestedInIndex(url: string): Promise<number> {
  const client = new Client({ connectionString: url, ssl: false });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM run_states WHERE status = 'attested'",
    );
    return rows[0].n;
  } finally {
    await client.end();
  }
}

/** Each image is named by one TaskRun: its .att and .sig must hold exactly one layer each. */
async function checkLayers(registry: string, repository: string, digests: Map<string, string>) {
  const entries = [...digests];
  const wrongImages: string[] = [];
  await forEachLimited(entries.length, 8, async (i) => {
    const [name, digest] = entries[i];
    const att = await layerCount(registry, repository, digest, '.att');
    const sig = await layerCount(registry, repository, digest, '.sig');
    if (att !== 1 || sig !== 1) wrongImages.push(`${name}: .att ${att}, .sig ${sig}`);
  });
  return { exactImages: entries.length - wrongImages.length, wrongImages };
}
