import { randomBytes } from 'node:crypto';
import { Agent, request } from 'undici';
import { type KubeAccess, loadKubeConfig } from '../../src/config/index.ts';
import { KubeConnection, RunApi } from '../../src/kube/index.ts';
import { appendToTag, cosignTagDocument, RegistryClient, sha256Digest } from '../../src/oci/index.ts';
import { CpuMeter, MachineBusyMeter } from './cpu-meter.ts';

/** What the replay process is asked to do (JSON in its first argument). */
export interface ReplayInput {
  registry: string;
  /** the observer's kubeconfig: its identity and RBAC */
  kubeconfig: string;
  namespace: string;
  runNames: readonly string[];
  /** measured seconds, after WARM_UP_SECONDS of the same work (JIT, connections) */
  seconds: number;
  concurrency: number;
  /** the servers' PIDs by name: their CPU is metered over the replay (warm-up and measured) */
  pids: Record<string, number>;
}

/** What it prints (JSON on stdout): replays done while warming up and while measured, and its own CPU while measured. */
export interface ReplayOutput {
  warmUpDone: number;
  done: number;
  seconds: number;
  cpuMs: number;
  /** CPU ms of each server over the replay's warm-up and measured loops (not the GETs after) */
  serverCpuMs: Record<string, number>;
  /** the share of the whole machine busy (/proc/stat, any process) while measured */
  busyShare: number;
  /**
   * Client CPU ms per GET of one manifest, from the same loops after the replay: the observer's
   * RegistryClient, and undici's request() alone on a pool of the same size (the floor any client
   * on undici pays here for a small request on a kept-alive connection)
   */
  getMs: { registryClient: number; undici: number };
}

const WARM_UP_SECONDS = 2;

/** The observer's own apiserver client for runs, on one connection as the observer has it. */
export function kubeRuns(access: KubeAccess): RunApi {
  return new RunApi({ connection: new KubeConnection({ access }) });
}

/**
 * One attested run's requests, sent by the observer's own clients with nothing else of its work
 * (no watch, statement, signature or index): read the run, the registry work (storageReplay) and
 * the merge patch that marks it — the 17 requests the observer sends per run with the defaults
 * (its Pod is read only when the evidence was not captured, and the success Event is off).
 */
export async function runReplay(
  runs: RunApi,
  registry: RegistryClient,
  at: { namespace: string; name: string },
  i: number,
): Promise<void> {
  const key = { kind: 'TaskRun' as const, ...at };
  const run = await runs.get(key);
  await storageReplay(registry, i);
  await runs.patchAnnotations(
    key,
    { 'bench.provenance-observer.dev/replay': String(i) },
    run?.metadata.uid ?? '',
  );
}

/**
 * One attested run's registry work, done by the observer's own storage code: a `.att` and a `.sig`
 * layer appended to their cosign tags (appendToTag: layer and config uploads, the read before and
 * the read after the manifest PUT) and the subject check (a manifest HEAD): the 15 requests the
 * observer sends per run. The settle wait is skipped (its read is not): this measures CPU, not time.
 */
async function storageReplay(client: RegistryClient, i: number): Promise<string> {
  const tag = sha256Digest(new TextEncoder().encode(`replay-${i}-${Math.random()}`)).replace(':', '-');
  await Promise.all(
    ['.att', '.sig'].map((suffix) => {
      const blob = new Uint8Array(randomBytes(2048));
      return appendToTag({
        client,
        repository: 'bench/replay',
        tag: `${tag}${suffix}`,
        document: cosignTagDocument,
        additions: [
          {
            descriptor: {
              mediaType: 'application/vnd.dsse.envelope.v1+json',
              size: blob.length,
              digest: sha256Digest(blob),
            },
            blob,
          },
        ],
        sleep: async () => {},
      });
    }),
  );
  await client.headManifest('bench/replay', `${tag}.att`);
  return `${tag}.att`;
}

/** Client CPU ms per operation of `op`, from `concurrency` loops for `seconds` after one second of warm-up. */
async function clientMsPer(concurrency: number, seconds: number, op: () => Promise<void>): Promise<number> {
  const loops = async (s: number) => {
    const end = performance.now() + s * 1000;
    let n = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < end) {
          await op();
          n++;
        }
      }),
    );
    return n;
  };
  await loops(1);
  const cpu = process.cpuUsage();
  const n = await loops(seconds);
  const used = process.cpuUsage(cpu);
  return (used.user + used.system) / 1000 / Math.max(1, n);
}

/** What one manifest GET costs the RegistryClient and undici alone, in the same loops (ReplayOutput.getMs). */
async function getCosts(input: ReplayInput, client: RegistryClient, tag: string) {
  const seconds = Math.max(1, input.seconds / 2);
  const registryClient = await clientMsPer(input.concurrency, seconds, async () => {
    await client.getManifest('bench/replay', tag);
  });
  const agent = new Agent({ connections: input.concurrency });
  const url = `http://${input.registry}/v2/bench/replay/manifests/${tag}`;
  const undici = await clientMsPer(input.concurrency, seconds, async () => {
    const res = await request(url, {
      dispatcher: agent,
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    await res.body.arrayBuffer();
  });
  await agent.close();
  return { registryClient, undici };
}

/** Runs replays from `concurrency` loops: WARM_UP_SECONDS unmeasured, then `seconds` measured. */
export async function replayLoops(input: ReplayInput): Promise<ReplayOutput> {
  const runs = kubeRuns(loadKubeConfig({ path: input.kubeconfig }));
  const registry = new RegistryClient({ registry: input.registry, insecure: true });
  let i = 0;
  const loops = async (seconds: number) => {
    const end = performance.now() + seconds * 1000;
    const from = i;
    await Promise.all(
      Array.from({ length: input.concurrency }, async () => {
        while (performance.now() < end) {
          const n = i++;
          await runReplay(
            runs,
            registry,
            { namespace: input.namespace, name: input.runNames[n % input.runNames.length] },
            n,
          );
        }
      }),
    );
    return i - from;
  };
  const servers = new CpuMeter(input.pids);
  const warmUpDone = await loops(WARM_UP_SECONDS);
  const cpu = process.cpuUsage();
  const busy = new MachineBusyMeter();
  const started = performance.now();
  const done = await loops(input.seconds);
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const busyShare = busy.read().busy;
  const serverCpuMs = servers.read();
  delete serverCpuMs.bench;
  const getMs = await getCosts(input, registry, await storageReplay(registry, i++));
  return {
    warmUpDone,
    done,
    seconds,
    cpuMs: (used.user + used.system) / 1000,
    serverCpuMs,
    busyShare,
    getMs,
  };
}

if (import.meta.main) {
  const output = await replayLoops(JSON.parse(process.argv[2] ?? '{}') as ReplayInput);
  process.stdout.write(JSON.stringify(output));
  process.exit(0);
}
