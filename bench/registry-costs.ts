import { randomBytes } from 'node:crypto';
import { RegistryClient, sha256Digest } from '../src/oci/index.ts';
import { daemonPids, loadLocalEnv, up } from '../test/env/index.ts';
import { CpuMeter } from './backlog/cpu-meter.ts';

const CONCURRENCY = 16;
const REPOSITORY = 'bench/registry-costs';
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

interface Cost {
  what: string;
  perSecond: number;
  registryMs: number;
  clientMs: number;
}

/** Runs `op` `count` times from CONCURRENCY loops: rate, and the registry's and this process's CPU per op. */
async function cost(what: string, count: number, registryPid: number, op: (i: number) => Promise<unknown>) {
  let next = 0;
  const meter = new CpuMeter({ registry: registryPid });
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < count) await op(next++);
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpu = meter.read();
  return {
    what,
    perSecond: count / seconds,
    registryMs: (cpu.registry ?? 0) / count,
    clientMs: (cpu.bench ?? 0) / count,
  };
}

/**
 * `npm run bench -- registry-costs [--count N]`: what each kind of request the observer sends costs
 * the local registry (docker-registry, from /proc) and the observer's RegistryClient, per request,
 * from 16 concurrent loops: the figures behind the registry's share of an attested run in
 * docs/performance.md (a run appends to two tags: four blob uploads, two manifest PUTs, four tag
 * reads, one subject check).
 */
export async function runRegistryCostsBench(args: readonly string[]): Promise<string> {
  const at = args.indexOf('--count');
  const count = at >= 0 ? Number(args[at + 1]) : 800;
  if (!Number.isInteger(count) || count < 1)
    throw new Error('registry-costs: --count takes a whole number ≥ 1');
  await up((line) => console.error(`[env] ${line}`), 'cli');
  const env = loadLocalEnv();
  const pid = daemonPids().registry;
  const client = new RegistryClient({ registry: env.registry, insecure: true });
  const config = new TextEncoder().encode('{}');
  const configDigest = await client.uploadBlob(REPOSITORY, config);
  const run = `${Date.now().toString(36)}`;
  const layers: string[] = [];
  const manifest = (i: number) =>
    new TextEncoder().encode(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MANIFEST,
        config: {
          mediaType: 'application/vnd.oci.image.config.v1+json',
          digest: configDigest,
          size: config.length,
        },
        layers: [{ mediaType: 'application/vnd.dsse.envelope.v1+json', digest: layers[i], size: 2048 }],
      }),
    );
  const costs: Cost[] = [];
  costs.push(
    await cost('blob upload, 2 KiB (POST + PUT)', count, pid, async (i) => {
      layers[i] = await client.uploadBlob(REPOSITORY, new Uint8Array(randomBytes(2048)), { fresh: true });
    }),
  );
  costs.push(await cost('blob HEAD (present)', count, pid, (i) => client.blobExists(REPOSITORY, layers[i])));
  costs.push(
    await cost('manifest PUT (new tag)', count, pid, (i) =>
      client.putManifest(REPOSITORY, `${run}-${i}`, manifest(i), MANIFEST),
    ),
  );
  costs.push(
    await cost('manifest GET (tag present)', count, pid, (i) =>
      client.getManifest(REPOSITORY, `${run}-${i}`),
    ),
  );
  costs.push(
    await cost('manifest GET (no such tag: 404)', count, pid, (i) =>
      client.getManifest(REPOSITORY, `${run}-none-${i}`),
    ),
  );
  costs.push(
    await cost('manifest HEAD by digest (subject check)', count, pid, (i) =>
      client.headManifest(REPOSITORY, sha256Digest(manifest(i))),
    ),
  );
  return [
    `request | per second | registry CPU ms | client CPU ms`,
    `---|---|---|---`,
    ...costs.map((c) =>
      [c.what, c.perSecond.toFixed(0), c.registryMs.toFixed(2), c.clientMs.toFixed(2)].join(' | '),
    ),
  ].join('\n');
}
