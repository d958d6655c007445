import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { withGeneratedSection } from '../src/generated-section.ts';
import { daemonPids, kubeConfigFor, loadLocalEnv, up } from '../test/env/index.ts';
import { asInContainer, deploySettings } from '../test/helpers/deploy-settings.ts';
import { putSigningSecret } from '../test/helpers/observer.ts';
import { type BacklogOptions, parseBacklogArgs } from './backlog/args.ts';
import { buildObserver } from './backlog/observer-process.ts';
import { type BacklogRound, formatBacklogReport, SERVERS } from './backlog/report.ts';
import { reuseConnections } from './backlog/reuse-connections.ts';
import { runScenario, type ScenarioResult } from './backlog/scenario.ts';

/**
 * `npm run bench -- backlog [--runs N] [--workers W]`: the observer, as its own process on an empty
 * index, drains N completed TaskRuns (each with its own pushed image) in a namespace of their own
 * on the real local environment, while a fresh run completes every 2 s. Measured in the same run:
 * the machine's limits for the two writes an attestation needs (apiserver merge patches, registry
 * attestation pushes), the drain rate, completion→signed latency of the fresh runs, the observer's
 * RSS, the CPU per run of every process and the requests per run by kind; and the same at N/10 to
 * show what grows with N. `--rounds R` measures it all R times; `--profile-round` adds one more
 * drain of N under --cpu-prof and reports where the observer's CPU went in it by function. Prints issue 24's goals with a
 * "goal met" column (met when every round meets it) and writes docs/performance.md.
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
    ...(options.config ? { config: options.config } : {}),
    log: (line: string) => console.error(`[backlog] ${line}`),
  };
  const small = Math.max(1, Math.round(options.runs / 10));
  const rounds: BacklogRound[] = [];
  for (let round = 1; round <= options.rounds; round++) {
    setup.log(`round ${round} of ${options.rounds}`);
    const smallRun = options.quick
      ? undefined
      : await runScenario({ ...setup, runs: small, workers: options.workers });
    const big = await runScenario({ ...setup, runs: options.runs, workers: options.workers });
    rounds.push({ big, ...(smallRun ? { small: smallRun } : {}) });
    for (const r of smallRun ? [smallRun, big] : [big]) {
      const slowest = r.fresh.slowest.map((t) => `${t.ms.toFixed(0)} ms at +${t.afterSpawnS.toFixed(0)} s`);
      setup.log(
        `${r.runs} runs: slowest fresh runs ${slowest.join(', ') || 'none'} (after the observer's spawn)`,
      );
    }
  }
  let profiled: ScenarioResult | undefined;
  if (options.profileRound) {
    setup.log('the profiled round: one more drain with the observer under --cpu-prof');
    const profileDir = mkdtempSync(join(tmpdir(), 'backlog-profile-'));
    profiled = await runScenario({ ...setup, runs: options.runs, workers: options.workers, profileDir });
    rmSync(profileDir, { recursive: true, force: true });
  }
  const report = formatBacklogReport(rounds, options, profiled);
  const doc = resolve(import.meta.dirname, '../docs/performance.md');
  writeFileSync(
    doc,
    withGeneratedSection(
      readFileSync(doc, 'utf8'),
      '<!-- begin: npm run bench -- backlog -->',
      '<!-- end: npm run bench -- backlog -->',
      performanceSection(report, options, args, setup.nodeOptions, setup.observerEnv),
    ),
  );
  return report;
}

function performanceSection(
  report: string,
  options: BacklogOptions,
  args: readonly string[],
  nodeOptions: string[],
  env: Record<string, string>,
): string {
  const variables = Object.entries(env).map(([name, value]) => `${name}=${value}`);
  const cpu = cpus();
  return `Figures from \`npm run bench -- backlog ${args.join(' ')}\`, written by
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
from /proc every 100 ms. The drain window runs from the observer's readiness to the last seeded run
signed; CPU per run is each process's user+system time in that window (the observer, the servers from
/proc, the bench's own clients) over the runs signed in it, and the machine share is their sum over
cores × the window's length (/proc/stat's busy and iowait shares of the whole machine are shown beside it,
and /proc/diskstats tells what the disk under the environment's state did).
Requests per run by kind come from the observer's own counters (\`registry_requests_total\` by
method and kind, \`kube_requests_total\` by verb and resource) over the same window. One run's requests are replayed by the observer's own
clients in a process started like the observer, in 16 loops for 8 s after 2 s of warm-up (read the run; appendToTag of a \`.att\` and a \`.sig\`
layer and the subject check, without the settle wait; the merge patch: the 17 requests the counters show),
for the CPU they cost the servers and the client with nothing else of the observer's work, and how busy
they alone keep the machine; then a manifest GET in the same loops, by the observer's RegistryClient and
by undici's request() alone, for the client's floor (what each kind of registry request costs:
\`npm run bench -- registry-costs\`).

Machine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.versions.node}, ${new Date().toISOString().slice(0, 10)}; load average at the end
${loadavg()
  .map((l) => l.toFixed(1))
  .join(' / ')} (1 / 5 / 15 min; the bench's own environment, observer and clients share these cores), so the
limits are measured in the same run and the goals are ratios to them.

${report}`;
}
