import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { daemonPids, kubeConfigFor, loadLocalEnv, up } from '../test/env/index.ts';
import { asInContainer, deploySettings } from '../test/helpers/deploy-settings.ts';
import { putSigningSecret } from '../test/helpers/observer.ts';
import { ScratchDatabases } from '../test/helpers/postgres.ts';
import { buildObserver } from './backlog/observer-process.ts';
import { compareCharges } from './backlog/profile-by-module.ts';
import { reuseConnections } from './backlog/reuse-connections.ts';
import { drainWithReplicas, type ReplicaResult, startupCpuMs } from './replicas/scenario.ts';

/**
 * `npm run bench -- replicas [--runs N] [--workers W]`: the same backlog — N completed TaskRuns,
 * each with its own pushed image, in a namespace of its own — drained on the real local environment
 * by 1 observer and then by 3 (each its own process, deploy/'s node flags, sharing runs through a
 * PostgreSQL index), in the same run. Prints the replica row of issue 24: CPU per attested run of
 * every process (the observers summed, registry, kube-apiserver, etcd, PostgreSQL with its
 * backends), the 3 : 1 ratio against the goal (≤ 1.1), what each run cost the apiserver and
 * PostgreSQL, and whether every run was attested exactly once (the index, the observers' counters,
 * one `.att` and one `.sig` layer per image). `--profile` then drains the pair again with every
 * replica under --cpu-prof and sets the two side by side by function: what the further replicas
 * spend per run (the profiled pair's own figures are not the row: profiling costs CPU).
 */
interface Setup {
  runs: number;
  workers?: number;
  /** --profile: after the measured pair, the same pair again under --cpu-prof, compared by function */
  profile?: boolean;
}

const TIMEOUT_MS = 900_000;
const SERVERS = ['registry', 'kube-apiserver', 'etcd', 'postgres'] as const;
/** the replica row's goal: 3 replicas' CPU per run at most this times one replica's */
export const REPLICA_GOAL = 1.1;

export async function runReplicasBench(args: readonly string[]): Promise<string> {
  const setup = parseArgs(args);
  await up((line) => console.error(`[env] ${line}`), 'cli');
  const env = loadLocalEnv();
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  await putSigningSecret(env, { 'x509.pem': privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() });
  const deploy = deploySettings();
  const servers = daemonPids();
  const databases = new ScratchDatabases(env.postgresUrl);
  const base = {
    admin: reuseConnections(kubeConfigFor('admin')),
    apiserver: { server: env.apiserver, adminToken: env.tokens.admin },
    observerKubeconfigPath: env.kubeconfigs.observer,
    registry: env.registry,
    runs: setup.runs,
    workers: setup.workers,
    main: buildObserver(),
    nodeOptions: asInContainer(deploy),
    observerEnv: deploy.env,
    pids: Object.fromEntries(SERVERS.map((name) => [name, servers[name]])),
    log: (line: string) => console.error(`[replicas] ${line}`),
    timeoutMs: TIMEOUT_MS,
  };
  const s = { ...base, startupCpuMs: await startupCpuMs(base, await databases.create()) };
  s.log(`one observer's start-up: ${s.startupCpuMs.toFixed(0)} ms CPU (left out of the per-run figures)`);
  const results: ReplicaResult[] = [];
  const profiled: ReplicaResult[] = [];
  const profileDir = setup.profile ? mkdtempSync(join(tmpdir(), 'replicas-profile-')) : undefined;
  try {
    for (const replicas of [1, 3])
      results.push(await drainWithReplicas(s, replicas, await databases.create()));
    if (profileDir) {
      s.log('the profiled pair: the same drains with every replica under --cpu-prof');
      for (const replicas of [1, 3])
        profiled.push(await drainWithReplicas({ ...s, profileDir }, replicas, await databases.create()));
    }
  } finally {
    await databases.dropAll();
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
  }
  return [formatReplicaReport(results, setup, s.startupCpuMs), ...profiledPair(profiled)].join('\n');
}

/** The profiled pair's replicas side by side by our code: what 3 replicas spend per run that 1 does not. */
export function profiledPair(profiled: ReplicaResult[]): string[] {
  const [one, three] = profiled;
  if (!one?.charges || !three?.charges) return [];
  return [
    '',
    `Where the replicas' CPU goes, 1 replica against 3 summed, per attested run (a profiled pair after the measured one: ${one.cpuMsPerRun.observers?.toFixed(1)} and ${three.cpuMsPerRun.observers?.toFixed(1)} ms per run with the profiler's overhead; each replica's start-up included, ${one.signedInWindow} and ${three.signedInWindow} runs; each sample charged to the nearest frame of ours on its stack, and each replica's samples scaled to the CPU time /proc gave it, since replicas that wait for a core are sampled as busy; bench/backlog/profile-by-module.ts):`,
    '',
    '```',
    compareCharges(one.charges, one.signedInWindow, three.charges, three.signedInWindow),
    '```',
  ];
}

const COLUMNS = ['observers', ...SERVERS, 'total'] as const;

export function formatReplicaReport(results: ReplicaResult[], setup: Setup, startupMs: number): string {
  const [one, three] = results;
  const ratio = three.cpuMsPerRun.total / one.cpuMsPerRun.total;
  const cpuRows = results.map((r) =>
    [r.replicas, r.signedInWindow, ...COLUMNS.map((c) => (r.cpuMsPerRun[c] ?? 0).toFixed(1))].join(' | '),
  );
  const kinds = [...new Set(results.flatMap((r) => Object.keys(r.apiserverPerRun)))].sort();
  const tables = [...new Set(results.flatMap((r) => Object.keys(r.pg.tables)))].sort();
  const perReplica = (f: (r: ReplicaResult) => string) => results.map((r) => f(r)).join(' | ');
  const once = results.map((r) => {
    const ok =
      r.signed === setup.runs &&
      r.failed === 0 &&
      r.attestedInIndex === setup.runs &&
      r.attestedByObservers === setup.runs &&
      r.wrongImages.length === 0;
    return `- ${r.replicas} replica(s): ${ok ? 'every run attested once' : 'NOT every run attested once'} — signed ${r.signed}/${setup.runs}${r.failed ? `, ${r.failed} failed` : ''}; attested in the index ${r.attestedInIndex}; attested by the observers' counters ${r.attestedByObservers}; images with exactly one .att and one .sig layer ${r.exactImages}/${setup.runs}${r.wrongImages.length ? ` (${r.wrongImages.slice(0, 5).join('; ')})` : ''}`;
  });
  return [
    `${setup.runs} completed TaskRuns per drain, PostgreSQL index, ${setup.workers ?? 'default'} workers per replica, each replica its own process; measured from before the first replica's spawn to the last run signed (+3 s); each replica's start-up (${startupMs.toFixed(0)} ms CPU, measured alone) left out`,
    '',
    'CPU ms per attested run:',
    '',
    `replicas | runs in window | ${COLUMNS.join(' | ')}`,
    `---|---|${COLUMNS.map(() => '---').join('|')}`,
    ...cpuRows,
    '',
    `| | 1 replica | 3 replicas | goal | met |`,
    `|---|---|---|---|---|`,
    `| CPU per run, all processes incl. PostgreSQL | ${one.cpuMsPerRun.total.toFixed(1)} ms | ${three.cpuMsPerRun.total.toFixed(1)} ms (${ratio.toFixed(2)} ×) | ≤ ${REPLICA_GOAL} × | ${ratio <= REPLICA_GOAL ? 'yes' : 'no'} |`,
    '',
    ...once,
    '',
    'Per attested run (1 replica | 3 replicas):',
    '',
    `- drain: ${perReplica((r) => `${r.seconds.toFixed(1)} s`)}`,
    `- PostgreSQL transactions: ${perReplica((r) => r.pg.transactions.toFixed(1))}; rows read: ${perReplica((r) => r.pg.rowsRead.toFixed(0))}`,
    ...tables.map(
      (t) =>
        `- ${t} rows inserted/updated/deleted/read by sequential scans: ${perReplica((r) => {
          const d = r.pg.tables[t];
          return d
            ? `${d.inserted.toFixed(2)}/${d.updated.toFixed(2)}/${d.deleted.toFixed(2)}/${d.seqRead.toFixed(0)}`
            : '0';
        })}`,
    ),
    `- registry requests (observers): ${perReplica((r) => r.registryPerRun.toFixed(1))}`,
    ...kinds.map((k) => `- apiserver ${k}: ${perReplica((r) => (r.apiserverPerRun[k] ?? 0).toFixed(2))}`),
  ].join('\n');
}

function parseArgs(args: readonly string[]): Setup {
  const setup: Setup = { runs: 300 };
  for (let i = 0; i < args.length; i += 2) {
    if (args[i] === '--profile') {
      setup.profile = true;
      i--;
      continue;
    }
    const value = Number(args[i + 1]);
    if (!['--runs', '--workers'].includes(args[i]) || !Number.isInteger(value) || value < 1)
      throw new Error(
        `replicas: usage [--runs N] [--workers W] (whole numbers ≥ 1) [--profile]; got ${args.join(' ')}`,
      );
    if (args[i] === '--runs') setup.runs = value;
    else setup.workers = value;
  }
  return setup;
}
