import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { daemonPids, kubeConfigFor, loadLocalEnv, up } from '../test/env/index.ts';
import { asInContainer, deploySettings } from '../test/helpers/deploy-settings.ts';
import { putSigningSecret } from '../test/helpers/observer.ts';
import { type BacklogOptions, parseBacklogArgs } from './backlog/args.ts';
import { buildObserver } from './backlog/observer-process.ts';
import { reuseConnections } from './backlog/reuse-connections.ts';
import { runScenario, type ScenarioResult } from './backlog/scenario.ts';

/**
 * `npm run bench -- backlog [--runs N] [--workers W]`: the observer, as its own process on an empty
 * index, drains N completed TaskRuns (each with its own pushed image) in a namespace of their own
 * on the real local environment, while a fresh run completes every 2 s. Measured in the same run:
 * the machine's limits for the two writes an attestation needs (apiserver merge patches, registry
 * attestation pushes), the drain rate, completion→signed latency of the fresh runs, the observer's
 * RSS and CPU per run; and the same at N/10 to show what grows with N. Prints one ratio line per
 * goal and writes docs/performance.md.
 */
export async function runBacklogBench(args: readonly string[]): Promise<string> {
  const options = parseBacklogArgs(args);
  await up((line) => console.error(`[env] ${line}`), 'cli');
  const env = loadLocalEnv();
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  await putSigningSecret(env, { 'x509.pem': privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() });
  const deploy = deploySettings();
  const servers = daemonPids();
  const setup = {
    pids: Object.fromEntries(SERVERS.map((name) => [name, servers[name]])),
    main: buildObserver(),
    nodeOptions: asInContainer(deploy),
    observerEnv: deploy.env,
    // one connection pool per identity, as the observer has (src/kube/kube-connection.ts)
    admin: reuseConnections(kubeConfigFor('admin')),
    observer: reuseConnections(kubeConfigFor('observer')),
    observerKubeconfigPath: env.kubeconfigs.observer,
    registry: env.registry,
    freshEverySeconds: options.freshEverySeconds,
    drainMinutes: options.drainMinutes,
    log: (line: string) => console.error(`[backlog] ${line}`),
  };
  const small = Math.max(1, Math.round(options.runs / 10));
  const results: ScenarioResult[] = [];
  if (!options.quick) results.push(await runScenario({ ...setup, runs: small, workers: options.workers }));
  results.push(await runScenario({ ...setup, runs: options.runs, workers: options.workers }));
  if (options.workers !== undefined) results.push(await runScenario({ ...setup, runs: options.runs }));
  for (const r of results) {
    const slowest = r.fresh.slowest.map((t) => `${t.ms.toFixed(0)} ms at +${t.afterSpawnS.toFixed(0)} s`);
    setup.log(
      `${r.runs} runs: slowest fresh runs ${slowest.join(', ') || 'none'} (after the observer's spawn)`,
    );
  }
  const report = formatBacklogReport(results, options);
  writeFileSync(
    resolve(import.meta.dirname, '../docs/performance.md'),
    performanceDoc(report, options, args, setup.nodeOptions, setup.observerEnv),
  );
  return report;
}

/** The servers a drain uses (postgres and the token registry idle), in the report's column order. */
const SERVERS = ['registry', 'kube-apiserver', 'etcd'] as const;

export function formatBacklogReport(results: ScenarioResult[], options: BacklogOptions): string {
  const rows = results.map((r) =>
    [
      r.runs,
      r.workers,
      r.limits.patchPerSecond.toFixed(0),
      r.limits.pushPerSecond.toFixed(0),
      `${r.drainPerSecond.toFixed(1)} (${r.signed}/${r.runs}, ${r.failed} failed)`,
      `${fmt(r.fresh.p50Ms)} / ${fmt(r.fresh.p99Ms)} (${r.fresh.count}${r.fresh.unsigned ? `, ${r.fresh.unsigned} unsigned` : ''})`,
      `${r.rssMiB.idle.toFixed(0)} / ${r.rssMiB.start.toFixed(0)} / ${r.rssMiB.peak.toFixed(0)} / ${r.rssMiB.end.toFixed(0)}`,
      r.cpuMsPerRun.toFixed(1),
    ].join(' | '),
  );
  const big = results.find((r) => r.runs === options.runs) ?? results[0];
  const small = results.find((r) => r.runs !== options.runs);
  const limit = Math.min(big.limits.patchPerSecond, big.limits.pushPerSecond);
  const ratios = [
    ratio('drain rate / (0.5 × min(patch, push limit))', big.drainPerSecond / (0.5 * limit), '≥ 1'),
    ratio('fresh runs p99 completion→signed / 2 s', big.fresh.p99Ms / 2000, '≤ 1'),
    ratio('observer peak RSS / 160 MB', (big.rssMiB.peak * 1.048576) / 160, '≤ 1'),
    small
      ? ratio(
          `(peak RSS at ${big.runs} − peak at ${small.runs}) / 20 MB`,
          ((big.rssMiB.peak - small.rssMiB.peak) * 1.048576) / 20,
          '≤ 1',
        )
      : '- peak RSS growth: not measured (--quick)',
    ratio('observer CPU per attested run / 10 ms', big.cpuMsPerRun / 10, '≤ 1'),
  ];
  return [
    `runs | workers | patch limit /s | push limit /s | drained runs/s | fresh p50 / p99 ms | RSS MiB idle / start / peak / end | CPU ms/run`,
    `---|---|---|---|---|---|---|---`,
    ...rows,
    '',
    `goals at ${options.runs} runs (ratio; goal):`,
    ...ratios,
    '',
    ...machineReport(results, big, limit),
  ].join('\n');
}

/**
 * Where the machine's CPU goes per attested run, by process, and the drain rates it allows: what
 * the drain could reach if the machine did nothing but drain, and if the registry alone had it.
 */
function machineReport(results: ScenarioResult[], big: ScenarioResult, limit: number): string[] {
  const columns = ['observer', ...SERVERS, 'bench'];
  const cores = cpus().length;
  const total = (r: ScenarioResult) => columns.reduce((sum, c) => sum + (r.machineCpuMsPerRun[c] ?? 0), 0);
  const rows = results.map((r) =>
    [r.runs, ...columns.map((c) => (r.machineCpuMsPerRun[c] ?? 0).toFixed(1)), total(r).toFixed(1)].join(
      ' | ',
    ),
  );
  const replay = big.limits.cpuPerRunRequestsMs;
  const requestsOnly = columns.reduce((sum, c) => sum + (c === 'observer' ? 0 : (replay[c] ?? 0)), 0);
  const ceiling = (cores * 1000) / Math.max(1e-9, total(big));
  const requestsCeiling = (cores * 1000) / Math.max(1e-9, requestsOnly);
  const goal = 0.5 * limit;
  const of = (rate: number) => `${rate.toFixed(1)} runs/s, ${(rate / goal).toFixed(2)} of the drain goal`;
  const ms = (name: string) => (replay[name] ?? 0).toFixed(1);
  return [
    `CPU ms per attested run by process, during the drain (${cores} cores = ${cores * 1000} ms of CPU per second):`,
    '',
    `runs | ${columns.join(' | ')} | total`,
    `---|${columns.map(() => '---').join('|')}|---`,
    ...rows,
    '',
    `what bounds the drain at ${big.runs} runs:`,
    `- one run's requests (the observer sent ${big.registryRequestsPerRun.toFixed(1)} registry requests per run, and reads the run and its Pod, patches the run and records an Event), replayed by its own clients and storage code in 16 loops, in a process started like it, with nothing else of its work: registry ${ms('registry')}, kube-apiserver ${ms('kube-apiserver')}, etcd ${ms('etcd')} and the client ${ms('bench')} ms of CPU per run`,
    `- the machine doing nothing but this drain, at the CPU per run measured in it: ≤ ${of(ceiling)}; drained ${big.drainPerSecond.toFixed(1)} = ${(big.drainPerSecond / ceiling).toFixed(2)} of that`,
    `- the machine doing nothing but one run's requests, as replayed: ≤ ${of(requestsCeiling)}`,
    `- the observer's CPU floor: its clients' ${ms('bench')} ms per run for the requests alone is ${((replay.bench ?? 0) / 10).toFixed(2)} of the CPU goal, before any statement, signature, index write or watch event`,
  ];
}

const fmt = (ms: number) => (Number.isNaN(ms) ? 'n/a' : ms.toFixed(0));
const ratio = (what: string, value: number, goal: string) => `- ${what}: ${value.toFixed(2)} (goal ${goal})`;

function performanceDoc(
  report: string,
  options: BacklogOptions,
  args: readonly string[],
  nodeOptions: string[],
  env: Record<string, string>,
): string {
  const variables = Object.entries(env).map(([name, value]) => `${name}=${value}`);
  const cpu = cpus();
  return `# Performance

Figures from \`npm run bench -- backlog ${args.join(' ')}\`, written by
the bench itself (bench/backlog.ts). The observer runs as its own process (\`provenance-observer run\`,
compiled as the image runs it, with the \`NODE_OPTIONS\` of deploy/base/40-deployment.yaml and its
memory limit: ${nodeOptions.join(' ') || 'none'}${variables.length ? `; and its variables ${variables.join(' ')}` : ''}) on an empty index, as the observer's service account, with the
configuration defaults a user gets (docs/configuration.md), against the local environment (real
kube-apiserver, etcd, docker-registry on 127.0.0.1). Limits are measured in the same run with the same clients
(16 concurrent loops for 8 s): merge patches of a run's annotations, and attestation pushes (two blobs
and a manifest). Drain rate counts seeded runs signed from the observer's start to the last one
(with \`--drain-minutes\`, to the last one signed within that time; the row says how many of N).
Fresh runs complete every ${options.freshEverySeconds} s during the drain; latency is from the status write
that completes them to the watch event showing \`chains.tekton.dev/signed: "true"\`. RSS is sampled
from /proc every 100 ms; CPU per run is the observer's user+system time from readiness to the end of
the drain over the runs signed in that window; the same window gives the CPU per run of the servers
(from /proc) and of the bench's own clients. One run's requests are replayed by the observer's own
clients in a process started like the observer, in 16 loops for 8 s after 2 s of warm-up (read the run and its Pod; appendToTag of a \`.att\` and a \`.sig\`
layer and the subject check, without the settle wait; the merge patch; the Event), for the CPU they
cost the servers and the client with nothing else of the observer's work (what each kind of registry
request costs: \`npm run bench -- registry-costs\`).

Machine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.versions.node}, ${new Date().toISOString().slice(0, 10)}; load average at the end
${loadavg()
  .map((l) => l.toFixed(1))
  .join(' / ')} (1 / 5 / 15 min; the bench's own environment, observer and clients share these cores), so the
limits are measured in the same run and the goals are ratios to them.

${report}
`;
}
