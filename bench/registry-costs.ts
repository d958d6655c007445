import { randomBytes } from 'node:crypto';
import { RegistryClient, sha256Digest } from '../src/oci/index.ts';
import { daemonPids, loadLocalEnv, up } from '../test/env/index.ts';
import { rate } from './backlog/limits.ts';

const REPOSITORY = 'bench/registry-costs';
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

/** A request meant to find what it asks for must find it, or its cost is a 404's. */
function expect(found: boolean): void {
  if (!found) throw new Error('registry-costs: the registry did not find what was just stored');
}

/**
 * `npm run bench -- registry-costs [--seconds S]`: what each kind of request the observer sends
 * costs the local registry (docker-registry, from /proc) and the observer's RegistryClient, per
 * request, from the limit loops of the backlog bench (16 concurrent loops, S seconds each, default
 * 4): the figures behind the registry's share of an attested run in docs/performance.md (a run
 * appends to two tags: four blob uploads, two manifest PUTs, four tag reads, one subject check).
 */
export async function runRegistryCostsBench(args: readonly string[]): Promise<string> {
  const at = args.indexOf('--seconds');
  const seconds = at >= 0 ? Number(args[at + 1]) : 4;
  if (!(seconds > 0)) throw new Error('registry-costs: --seconds takes a number > 0');
  await up((line) => console.error(`[env] ${line}`), 'cli');
  const env = loadLocalEnv();
  const pids = { registry: daemonPids().registry };
  const client = new RegistryClient({ registry: env.registry, insecure: true });
  const config = new TextEncoder().encode('{}');
  const configDigest = await client.uploadBlob(REPOSITORY, config);
  const run = Date.now().toString(36);
  const layers: string[] = [];
  let tags = 0;
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
        layers: [
          {
            mediaType: 'application/vnd.dsse.envelope.v1+json',
            digest: layers[i % layers.length],
            size: 2048,
          },
        ],
      }),
    );
  const kinds: [string, (i: number) => Promise<unknown>][] = [
    [
      'blob upload, 2 KiB (POST + PUT)',
      async () => {
        layers.push(await client.uploadBlob(REPOSITORY, new Uint8Array(randomBytes(2048)), { fresh: true }));
      },
    ],
    [
      'blob HEAD (present)',
      async (i) => expect(await client.blobExists(REPOSITORY, layers[i % layers.length])),
    ],
    [
      'manifest PUT (new tag)',
      async (i) => {
        await client.putManifest(REPOSITORY, `${run}-${i}`, manifest(i), MANIFEST);
        tags = Math.max(tags, i + 1);
      },
    ],
    [
      'manifest GET (tag present)',
      async (i) => expect((await client.getManifest(REPOSITORY, `${run}-${i % tags}`)) !== undefined),
    ],
    ['manifest GET (no such tag: 404)', (i) => client.getManifest(REPOSITORY, `${run}-none-${i}`)],
    [
      'manifest HEAD by digest (subject check)',
      async (i) => expect((await client.headManifest(REPOSITORY, sha256Digest(manifest(i % tags)))) === 200),
    ],
  ];
  const rows: string[] = [];
  for (const [what, op] of kinds) {
    const r = await rate(seconds, pids, async (i) => void (await op(i)));
    rows.push(
      [
        what,
        r.perSecond.toFixed(0),
        (r.cpuMs.registry ?? 0).toFixed(2),
        (r.cpuMs.bench ?? 0).toFixed(2),
      ].join(' | '),
    );
  }
  return [`request | per second | registry CPU ms | client CPU ms`, `---|---|---|---`, ...rows].join('\n');
}
