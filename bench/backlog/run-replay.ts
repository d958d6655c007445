import { randomBytes } from 'node:crypto';
import { type KubeAccess, loadKubeConfig } from '../../src/config/index.ts';
import { KubeConnection, KubeEventRecorder, PodReader, RunApi } from '../../src/kube/index.ts';
import { createLogger } from '../../src/observability/index.ts';
import { appendToTag, cosignTagDocument, RegistryClient, sha256Digest } from '../../src/oci/index.ts';
import { MachineBusyMeter } from './cpu-meter.ts';

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
}

/** What it prints (JSON on stdout): replays done while warming up and while measured, and its own CPU while measured. */
export interface ReplayOutput {
  warmUpDone: number;
  done: number;
  seconds: number;
  cpuMs: number;
  /** the share of the whole machine busy (/proc/stat, any process) while measured */
  busyShare: number;
}

const WARM_UP_SECONDS = 2;

/** The observer's own apiserver clients, on one connection as the observer has them. */
export interface KubeClients {
  runs: RunApi;
  pods: PodReader;
  events: KubeEventRecorder;
}

export function kubeClients(access: KubeAccess): KubeClients {
  const connection = new KubeConnection({ access });
  return {
    runs: new RunApi({ connection }),
    pods: new PodReader({ connection }),
    events: new KubeEventRecorder({ connection, logger: createLogger({ level: 'silent' }) }),
  };
}

/**
 * One attested run's requests, sent by the observer's own clients with nothing else of its work
 * (no watch, statement, signature or index): read the run and its Pod, the registry work
 * (storageReplay), the merge patch that marks it and its Attested Event — the 19 requests the
 * observer sends per run.
 */
export async function runReplay(
  kube: KubeClients,
  registry: RegistryClient,
  at: { namespace: string; name: string },
  i: number,
): Promise<void> {
  const key = { kind: 'TaskRun' as const, ...at };
  const run = await kube.runs.get(key);
  const uid = run?.metadata.uid ?? '';
  await kube.pods.get(at.namespace, `${at.name}-pod`);
  await storageReplay(registry, i);
  await kube.runs.patchAnnotations(key, { 'bench.provenance-observer.dev/replay': String(i) }, uid);
  await kube.events.record({
    run: { ...key, uid },
    type: 'Normal',
    reason: 'BenchReplay',
    message: `replay ${i}`,
  });
}

/**
 * One attested run's registry work, done by the observer's own storage code: a `.att` and a `.sig`
 * layer appended to their cosign tags (appendToTag: layer and config uploads, the read before and
 * the read after the manifest PUT) and the subject check (a manifest HEAD): the 15 requests the
 * observer sends per run. The settle wait is skipped (its read is not): this measures CPU, not time.
 */
async function storageReplay(client: RegistryClient, i: number): Promise<void> {
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
}

/** Runs replays from `concurrency` loops: WARM_UP_SECONDS unmeasured, then `seconds` measured. */
export async function replayLoops(input: ReplayInput): Promise<ReplayOutput> {
  const kube = kubeClients(loadKubeConfig({ path: input.kubeconfig }));
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
            kube,
            registry,
            { namespace: input.namespace, name: input.runNames[n % input.runNames.length] },
            n,
          );
        }
      }),
    );
    return i - from;
  };
  const warmUpDone = await loops(WARM_UP_SECONDS);
  const cpu = process.cpuUsage();
  const busy = new MachineBusyMeter();
  const started = performance.now();
  const done = await loops(input.seconds);
  const used = process.cpuUsage(cpu);
  const busyShare = busy.read().busy;
  return {
    warmUpDone,
    done,
    seconds: (performance.now() - started) / 1000,
    cpuMs: (used.user + used.system) / 1000,
    busyShare,
  };
}

if (import.meta.main) {
  const output = await replayLoops(JSON.parse(process.argv[2] ?? '{}') as ReplayInput);
  process.stdout.write(JSON.stringify(output));
  process.exit(0);
}
