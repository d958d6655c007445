import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { startApiserver } from './apiserver.ts';
import { apiserverBinaryPath, ensureApiserverBinary } from './apiserver-build.ts';
import { OBSERVER_NAMESPACE, setupCluster, TENANT_NAMESPACES } from './cluster-setup.ts';
import { startEtcd } from './etcd.ts';
import { newTokens, writeKubeconfigs } from './identities.ts';
import { kubeConfigWithToken } from './kube.ts';
import { ENV_FILE, type LocalEnv, loadLocalEnv } from './local-env.ts';
import { withLock } from './lock.ts';
import { POSTGRES_BIN, pgIsReady, startPostgres } from './postgres.ts';
import { type Daemon, httpStatus, isRunning, stopDaemon } from './processes.ts';
import { startRegistry, startTokenRegistry } from './registry.ts';

/** `.local/env/`: env.json, state.json, kubeconfigs, data and logs of the running environment. */
export const STATE_DIR = dirname(ENV_FILE);
export const LOGS_DIR = join(STATE_DIR, 'logs');
const STATE_FILE = join(STATE_DIR, 'state.json');
const REQUIRED_BINARIES = ['etcd', 'docker-registry', 'openssl', 'setpriv', join(POSTGRES_BIN, 'postgres')];
/** needed only while kube-apiserver is not cached yet */
const BUILD_BINARIES = ['go', 'make', 'rsync'];

/** Who started the environment: `cli` (kept until `env down`) or `test` (the last test run stops it). */
export type Owner = 'cli' | 'test';

interface State {
  owner: Owner;
  daemons: Daemon[];
}

export interface UpResult {
  env: LocalEnv;
  /** true when a running, healthy environment was reused and nothing was started */
  reused: boolean;
  /** wall time of `up` in ms, and of the kube-apiserver build within it (0 when cached) */
  totalMs: number;
  buildMs: number;
}

export interface Status {
  running: boolean;
  /** what is wrong, one line each ("kube-apiserver (pid 123) not running") */
  problems: string[];
  env?: LocalEnv;
  owner?: Owner;
}

/**
 * Brings the environment up, or reuses a healthy running one (every PID alive and every server
 * answering). A half-dead one is stopped and started afresh. Serialised by a lock file, so test runs
 * started at the same time share one environment. On failure, stops what it started and names the logs.
 */
export function up(progress: (line: string) => void, owner: Owner = 'cli'): Promise<UpResult> {
  return withLock(join(dirname(STATE_DIR), 'env.lock'), async () => {
    const started = Date.now();
    const current = await status();
    if (current.running && current.env) return { env: current.env, reused: true, totalMs: 0, buildMs: 0 };
    if (existsSync(STATE_DIR)) {
      progress(`stale environment (${current.problems.join('; ')}): stopping it`);
      await stopAll();
    }
    checkBinaries(
      existsSync(apiserverBinaryPath()) ? REQUIRED_BINARIES : [...REQUIRED_BINARIES, ...BUILD_BINARIES],
    );
    const binary = await ensureApiserverBinary(progress);
    const state: State = { owner, daemons: [] };
    try {
      const env = await startAll(binary.path, state, progress);
      writeFileSync(ENV_FILE, `${JSON.stringify(env, null, 2)}\n`, { mode: 0o600 });
      return { env, reused: false, totalMs: Date.now() - started, buildMs: binary.buildMs };
    } catch (err) {
      for (const d of state.daemons.toReversed()) await stopDaemon(d);
      throw new Error(`env up failed: ${(err as Error).message} (component logs: ${LOGS_DIR})`, {
        cause: err,
      });
    }
  });
}

async function startAll(binary: string, state: State, progress: (line: string) => void): Promise<LocalEnv> {
  mkdirSync(LOGS_DIR, { recursive: true });
  const step = async <T extends { daemon?: Daemon }>(name: string, start: () => Promise<T>): Promise<T> => {
    const t = Date.now();
    const result = await start();
    if (result.daemon) state.daemons.push(result.daemon);
    writeFileSync(STATE_FILE, JSON.stringify(state, null, 2));
    progress(`${name} ready in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    return result;
  };
  const tokens = newTokens();
  const etcd = await step('etcd', () => startEtcd(STATE_DIR, LOGS_DIR));
  const apiserver = await step('kube-apiserver', () =>
    startApiserver({ binary, etcdUrl: etcd.url, stateDir: STATE_DIR, logsDir: LOGS_DIR, tokens }),
  );
  const postgres = await step('postgres', () => startPostgres(STATE_DIR, LOGS_DIR));
  const registry = await step('registry', () => startRegistry('registry', STATE_DIR, LOGS_DIR));
  const tokenReg = await step('token registry', async () => {
    const r = await startTokenRegistry(STATE_DIR, LOGS_DIR);
    state.daemons.push(r.tokenServer);
    return { ...r, daemon: r.registry.daemon };
  });
  await step('cluster setup', async () => {
    await setupCluster(kubeConfigWithToken(apiserver.url, tokens.admin));
    return {};
  });
  const kubeconfigs = writeKubeconfigs(STATE_DIR, apiserver.url, tokens, (id) =>
    id === 'admin' || id === 'observer' ? OBSERVER_NAMESPACE : id === 'tenantB' ? 'tenant-b' : 'tenant-a',
  );
  return {
    apiserver: apiserver.url,
    kubeconfigs,
    tokens,
    observerNamespace: OBSERVER_NAMESPACE,
    tenantNamespaces: TENANT_NAMESPACES,
    registry: registry.address,
    tokenRegistry: {
      address: tokenReg.registry.address,
      username: tokenReg.username,
      password: tokenReg.password,
      tenantA: tokenReg.tenantA,
    },
    postgresUrl: postgres.url,
    postgresCaFile: postgres.caFile,
    logsDir: LOGS_DIR,
  };
}

function checkBinaries(names: string[]): void {
  const missing = names.filter((b) => {
    try {
      execFileSync('sh', ['-c', `command -v ${b}`], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length > 0) {
    throw new Error(`missing ${missing.join(', ')}: run "sudo test/env/install-deps.sh" (Debian 12) first`);
  }
}

/** Whether the environment described by `.local/env` is up: PIDs alive and every server answering. */
export async function status(): Promise<Status> {
  const state = readState();
  if (!state || !existsSync(ENV_FILE)) return { running: false, problems: ['no environment'] };
  const env = loadLocalEnv();
  const problems = state.daemons
    .filter((d) => !isRunning(d))
    .map((d) => `${d.name} (pid ${d.pid}) not running`);
  const checks: [string, string, Record<string, string>, number][] = [
    [
      'kube-apiserver /readyz',
      `${env.apiserver}/readyz`,
      { Authorization: `Bearer ${env.tokens.admin}` },
      200,
    ],
    ['registry /v2/', `http://${env.registry}/v2/`, {}, 200],
    ['token registry /v2/', `http://${env.tokenRegistry.address}/v2/`, {}, 401],
  ];
  for (const [name, url, headers, want] of checks) {
    const got = await httpStatus(url, headers);
    if (got !== want) problems.push(`${name} answered ${got || 'nothing'}, want ${want}`);
  }
  const postgresPort = Number(new URL(env.postgresUrl ?? 'postgres://x:0').port);
  if (!pgIsReady(join(POSTGRES_BIN, 'pg_isready'), postgresPort))
    problems.push(`postgres on port ${postgresPort} does not accept connections`);
  return { running: problems.length === 0, problems, env, owner: state.owner };
}

/** Stops every daemon the environment started (by PID) and removes `.local/env`. Keeps the cached apiserver. */
export function down(): Promise<void> {
  return withLock(join(dirname(STATE_DIR), 'env.lock'), stopAll);
}

async function stopAll(): Promise<void> {
  for (const d of readState()?.daemons.toReversed() ?? []) await stopDaemon(d);
  rmSync(STATE_DIR, { recursive: true, force: true });
}

/** PIDs of the running environment's servers by name (etcd, kube-apiserver, registry, …), for CPU accounting. */
export function daemonPids(): Record<string, number> {
  return Object.fromEntries((readState()?.daemons ?? []).map((d) => [d.name, d.pid]));
}

function readState(): State | undefined {
  try {
    return JSON.parse(readFileSync(STATE_FILE, 'utf8')) as State;
  } catch {
    return undefined;
  }
}
