import { randomBytes } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import type { KubeAccess } from '../../src/config/index.ts';
import { KubeConnection, KubeEventRecorder, PodReader, RunApi } from '../../src/kube/index.ts';
import { createLogger } from '../../src/observability/index.ts';
import { appendToTag, cosignTagDocument, RegistryClient, sha256Digest } from '../../src/oci/index.ts';
import { patchAnnotation } from './cluster.ts';
import { CpuMeter } from './cpu-meter.ts';

/** The machine's limits for the two writes an attestation costs, measured with the observer's clients. */
export interface Limits {
  /** merge patches of a run's annotations per second (the observer's identity, client-node) */
  patchPerSecond: number;
  /** attestation pushes per second: two blobs and a manifest (the observer's RegistryClient) */
  pushPerSecond: number;
  /** CPU ms per operation in each loop, by process (the servers, and `bench`: the client) */
  cpuPerPatchMs: Record<string, number>;
  cpuPerPushMs: Record<string, number>;
  /** CPU ms by process per replay of one run's requests (runReplay) */
  cpuPerRunRequestsMs: Record<string, number>;
}

/** The observer's own apiserver clients, on one connection as the observer has them. */
interface KubeClients {
  runs: RunApi;
  pods: PodReader;
  events: KubeEventRecorder;
}

function kubeClients(access: KubeAccess): KubeClients {
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
async function runReplay(
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

const CONCURRENCY = 16;

/**
 * Runs `op` from CONCURRENCY loops for `seconds`: completed operations per second, and the CPU
 * each process of `pids` (and this one, `bench`) spent per operation.
 */
async function rate(
  seconds: number,
  pids: Record<string, number>,
  op: (i: number) => Promise<void>,
): Promise<{ perSecond: number; cpuMs: Record<string, number> }> {
  const end = performance.now() + seconds * 1000;
  let done = 0;
  const meter = new CpuMeter(pids);
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) await op(done++);
    }),
  );
  const perSecond = done / ((performance.now() - started) / 1000);
  const cpu = meter.read();
  return {
    perSecond,
    cpuMs: Object.fromEntries(Object.entries(cpu).map(([name, ms]) => [name, ms / Math.max(1, done)])),
  };
}

export async function measureLimits(options: {
  observer: KubeConfig;
  /** the same identity for the observer's own clients (runReplay) */
  observerAccess: KubeAccess;
  namespace: string;
  runNames: readonly string[];
  registry: string;
  /** the servers' PIDs by name (test/env daemonPids), for CPU per operation */
  pids: Record<string, number>;
  seconds?: number;
}): Promise<Limits> {
  const seconds = options.seconds ?? 8;
  const patches = await rate(seconds, options.pids, (i) =>
    patchAnnotation(options.observer, options.namespace, options.runNames[i % options.runNames.length], {
      'bench.provenance-observer.dev/probe': String(i),
    }),
  );
  const client = new RegistryClient({ registry: options.registry, insecure: true });
  const pushes = await rate(seconds, options.pids, async (i) => {
    const envelope = new Uint8Array(randomBytes(2048));
    const config = new TextEncoder().encode(`{"probe":${i}}`);
    const [layer, cfg] = await Promise.all([
      client.uploadBlob('bench/limits', envelope),
      client.uploadBlob('bench/limits', config),
    ]);
    const manifest = new TextEncoder().encode(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: cfg, size: config.length },
        layers: [
          { mediaType: 'application/vnd.dsse.envelope.v1+json', digest: layer, size: envelope.length },
        ],
      }),
    );
    await client.putManifest(
      'bench/limits',
      `probe-${i}`,
      manifest,
      'application/vnd.oci.image.manifest.v1+json',
    );
  });
  const kube = kubeClients(options.observerAccess);
  const replays = await rate(seconds, options.pids, (i) =>
    runReplay(
      kube,
      client,
      { namespace: options.namespace, name: options.runNames[i % options.runNames.length] },
      i,
    ),
  );
  return {
    patchPerSecond: patches.perSecond,
    cpuPerRunRequestsMs: replays.cpuMs,
    pushPerSecond: pushes.perSecond,
    cpuPerPatchMs: patches.cpuMs,
    cpuPerPushMs: pushes.cpuMs,
  };
}
