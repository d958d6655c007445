import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import type { KubeConfig } from '@kubernetes/client-node';
import { RegistryClient } from '../../src/oci/index.ts';
import { patchAnnotation } from './cluster.ts';
import { CpuMeter, MachineBusyMeter } from './cpu-meter.ts';
import type { ReplayInput, ReplayOutput } from './run-replay.ts';

/** The machine's limits for the two writes an attestation costs, measured with the observer's clients. */
export interface Limits {
  /** merge patches of a run's annotations per second (the observer's identity, client-node) */
  patchPerSecond: number;
  /** attestation pushes per second: two blobs and a manifest (the observer's RegistryClient) */
  pushPerSecond: number;
  /** the share of the whole machine busy (/proc/stat) while the pushes ran: how busy the registry's write path alone keeps it */
  pushBusyShare: number;
  /** CPU ms per operation in each loop, by process (the servers, and `bench`: the client) */
  cpuPerPatchMs: Record<string, number>;
  cpuPerPushMs: Record<string, number>;
  /**
   * CPU ms by process per replay of one run's requests (run-replay.ts), `bench` being the replaying
   * process (started like the observer)
   */
  cpuPerRunRequestsMs: Record<string, number>;
  /**
   * The replay's pace: runs' requests per second, and the share of the machine busy (/proc/stat)
   * while measured: how busy the requests alone keep the machine, with no settle wait and no other work
   */
  replay: { perSecond: number; busyShare: number; getMs: { registryClient: number; undici: number } };
}

const CONCURRENCY = 16;

/**
 * Runs `op` from CONCURRENCY loops for `seconds`: completed operations per second, the share of
 * the machine busy meanwhile, and the CPU each process of `pids` (and this one, `bench`) spent per operation.
 */
export async function rate(
  seconds: number,
  pids: Record<string, number>,
  op: (i: number) => Promise<void>,
): Promise<{ perSecond: number; busyShare: number; cpuMs: Record<string, number> }> {
  const end = performance.now() + seconds * 1000;
  let done = 0;
  const meter = new CpuMeter(pids);
  const busy = new MachineBusyMeter();
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
    busyShare: busy.read().busy,
    cpuMs: Object.fromEntries(Object.entries(cpu).map(([name, ms]) => [name, ms / Math.max(1, done)])),
  };
}

/**
 * One run's requests replayed (run-replay.ts) in a process of their own started like the observer
 * (its node flags and variables), so the client's CPU is what the observer's clients cost in a heap
 * like the observer's; it meters the servers' CPU over its replay loops itself.
 */
async function replayRate(o: {
  input: ReplayInput;
  nodeOptions: string[];
  env: Record<string, string>;
}): Promise<{
  perSecond: number;
  busyShare: number;
  getMs: ReplayOutput['getMs'];
  cpuMs: Record<string, number>;
}> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [...o.nodeOptions, new URL('./run-replay.ts', import.meta.url).pathname, JSON.stringify(o.input)],
    { env: { ...process.env, ...o.env }, maxBuffer: 1 << 20 },
  );
  const out = JSON.parse(stdout) as ReplayOutput;
  return {
    perSecond: out.done / out.seconds,
    busyShare: out.busyShare,
    getMs: out.getMs,
    cpuMs: {
      ...Object.fromEntries(
        Object.entries(out.serverCpuMs).map(([name, ms]) => [
          name,
          ms / Math.max(1, out.warmUpDone + out.done),
        ]),
      ),
      bench: out.cpuMs / Math.max(1, out.done),
    },
  };
}

export async function measureLimits(options: {
  observer: KubeConfig;
  /** the observer's kubeconfig file, for the replay process */
  observerKubeconfigPath: string;
  /** node flags and variables the replay process starts with (the observer's, from deploy/) */
  nodeOptions: string[];
  env: Record<string, string>;
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
  const replays = await replayRate({
    input: {
      registry: options.registry,
      kubeconfig: options.observerKubeconfigPath,
      namespace: options.namespace,
      runNames: options.runNames,
      seconds,
      concurrency: CONCURRENCY,
      pids: options.pids,
    },
    nodeOptions: options.nodeOptions,
    env: options.env,
  });
  return {
    patchPerSecond: patches.perSecond,
    cpuPerRunRequestsMs: replays.cpuMs,
    replay: { perSecond: replays.perSecond, busyShare: replays.busyShare, getMs: replays.getMs },
    pushPerSecond: pushes.perSecond,
    pushBusyShare: pushes.busyShare,
    cpuPerPatchMs: patches.cpuMs,
    cpuPerPushMs: pushes.cpuMs,
  };
}
