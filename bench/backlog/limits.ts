import { randomBytes } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import { RegistryClient } from '../../src/oci/index.ts';
import { patchAnnotation } from './cluster.ts';

/** The machine's limits for the two writes an attestation costs, measured with the observer's clients. */
export interface Limits {
  /** merge patches of a run's annotations per second (the observer's identity, client-node) */
  patchPerSecond: number;
  /** attestation pushes per second: two blobs and a manifest (the observer's RegistryClient) */
  pushPerSecond: number;
}

const CONCURRENCY = 16;

/** Runs `op` from CONCURRENCY loops for `seconds` and returns completed operations per second. */
async function rate(seconds: number, op: (i: number) => Promise<void>): Promise<number> {
  const end = performance.now() + seconds * 1000;
  let done = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) await op(done++);
    }),
  );
  return done / ((performance.now() - started) / 1000);
}

export async function measureLimits(options: {
  observer: KubeConfig;
  namespace: string;
  runNames: readonly string[];
  registry: string;
  seconds?: number;
}): Promise<Limits> {
  const seconds = options.seconds ?? 8;
  const patchPerSecond = await rate(seconds, (i) =>
    patchAnnotation(options.observer, options.namespace, options.runNames[i % options.runNames.length], {
      'bench.provenance-observer.dev/probe': String(i),
    }),
  );
  const client = new RegistryClient({ registry: options.registry, insecure: true });
  const pushPerSecond = await rate(seconds, async (i) => {
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
  return { patchPerSecond, pushPerSecond };
}
