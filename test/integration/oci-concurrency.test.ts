import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/index.ts';
import { type Descriptor, digestTag, RegistryClient, sha256Digest } from '../../src/oci/index.ts';
import type { CheckedImage } from '../../src/policy/index.ts';
import { type ImageRef, OciBackend, type SignedArtifact } from '../../src/storage/index.ts';
import type { RunRef } from '../../src/tekton/run-ref.ts';
import { loadLocalEnv } from '../env/local-env.ts';
import { checkedImage } from '../helpers/checked-images.ts';

// PO_ENV_FILE lets these tests run against hand-started peers; normally .local/env/env.json.
const env = loadLocalEnv(process.env.PO_ENV_FILE || undefined);
const run: RunRef = {
  kind: 'PipelineRun',
  namespace: 'tenant-a',
  name: 'p-1',
  uid: 'uid-p',
  serviceAccountName: 'default',
};
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | undefined) => new TextDecoder().decode(b);
const REPO = 'oci-test/concurrency';
const client = new RegistryClient({ registry: env.registry, insecure: true });

/** Envelope-shaped bytes, distinct per call; only their digests matter here (signing is tested elsewhere). */
function artifact(image: CheckedImage, marker = randomUUID()): SignedArtifact {
  const envelope = {
    payloadType: 'application/vnd.in-toto+json',
    payload: Buffer.from(marker).toString('base64'),
    signatures: [{ sig: 'AA==' }],
  };
  const envelopeBytes = enc(JSON.stringify(envelope));
  return {
    type: 'provenance',
    key: 'pipelinerun-uid-p',
    predicateType: 'https://slsa.dev/provenance/v1',
    payload: enc(marker),
    envelope,
    envelopeBytes,
    images: [image],
  };
}

async function pushImage(): Promise<CheckedImage> {
  const config = await client.uploadBlob(
    REPO,
    enc(JSON.stringify({ os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, nonce: randomUUID() })),
  );
  const manifest = enc(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config, size: 1 },
      layers: [],
    }),
  );
  const { digest } = await client.putManifest(
    REPO,
    randomUUID(),
    manifest,
    'application/vnd.oci.image.manifest.v1+json',
  );
  return checkedImage({ repository: `${env.registry}/${REPO}`, digest });
}

/** Another process storing `count` envelopes through its own OciBackend; prints their layer digests. */
async function otherProcess(image: ImageRef, count: number): Promise<string[]> {
  const src = (p: string) => JSON.stringify(resolve(import.meta.dirname, '../../src', p));
  const script = `
    import { randomUUID } from 'node:crypto';
    import { OciBackend } from ${src('storage/index.ts')};
    import { sha256Digest } from ${src('oci/index.ts')};
    import { createLogger } from ${src('observability/index.ts')};
    const image = ${JSON.stringify(image)};
    const b = new OciBackend({ logger: createLogger({ level: 'silent' }), insecure: true, network: ${JSON.stringify(LOCAL)} });
    const digests = await Promise.all(Array.from({ length: ${count} }, async (_, i) => {
      // stagger so this process's writes interleave with the test process's batches
      await new Promise((r) => setTimeout(r, i * 40));
      const envelope = { payloadType: 'application/vnd.in-toto+json', payload: Buffer.from('child-' + randomUUID()).toString('base64'), signatures: [{ sig: 'AA==' }] };
      const envelopeBytes = new TextEncoder().encode(JSON.stringify(envelope));
      const r = await b.store({ run: ${JSON.stringify(run)}, artifact: { type: 'provenance', key: 'k', predicateType: 'p', payload: envelopeBytes, envelope, envelopeBytes, images: [image] } });
      if (!r.ok) throw r.error;
      return sha256Digest(envelopeBytes);
    }));
    console.log(JSON.stringify(digests));`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script]);
  return JSON.parse(stdout);
}

/**
 * A foreign writer with its own read-modify-write (not our code): appends one layer at a time,
 * then checks 300 ms later that it survived and writes again if not, as a careful cosign would.
 */
async function foreignWriter(tag: string, count: number): Promise<string[]> {
  const mine: string[] = [];
  for (let i = 0; i < count; i++) {
    const blob = enc(`foreign-${randomUUID()}`);
    const digest = await client.uploadBlob(REPO, blob);
    mine.push(digest);
    for (let attempt = 0; attempt < 10; attempt++) {
      const current = await retryServerErrors(() => client.getManifest(REPO, tag));
      const m = current
        ? JSON.parse(dec(current.bytes))
        : { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', layers: [] };
      if (!m.layers.some((l: Descriptor) => l.digest === digest)) {
        m.layers.push({
          mediaType: 'application/vnd.dsse.envelope.v1+json',
          size: blob.length,
          digest,
          annotations: { 'dev.cosignproject.cosign/signature': '' },
        });
        const config = enc(
          JSON.stringify({ rootfs: { type: 'layers', diff_ids: m.layers.map((l: Descriptor) => l.digest) } }),
        );
        m.config = {
          mediaType: 'application/vnd.oci.image.config.v1+json',
          size: config.length,
          digest: await client.uploadBlob(REPO, config),
        };
        await client.putManifest(REPO, tag, enc(JSON.stringify(m)), m.mediaType);
      }
      await new Promise((r) => setTimeout(r, 300));
      const after = JSON.parse(dec((await client.getManifest(REPO, tag))?.bytes));
      if (after.layers.some((l: Descriptor) => l.digest === digest)) break;
    }
  }
  return mine;
}

async function layerDigests(tag: string): Promise<string[]> {
  return JSON.parse(dec((await client.getManifest(REPO, tag))?.bytes)).layers.map(
    (l: Descriptor) => l.digest,
  );
}

/** the local registry lives on loopback, which the observer refuses unless listed */
const LOCAL = { allowedPrivate: ['127.0.0.1'] };

describe('OciBackend appends under concurrency (no lost, no duplicate layers)', () => {
  it('keeps every envelope exactly once with 20 parallel stores, a second process and a foreign writer', async () => {
    const image = await pushImage();
    const tag = digestTag(image.digest, '.att');
    const backend = new OciBackend({
      logger: createLogger({ level: 'silent' }),
      insecure: true,
      network: LOCAL,
    });
    const ours = Array.from({ length: 20 }, () => artifact(image));
    const started = Date.now();
    const [results, child, foreign] = await Promise.all([
      Promise.all(
        ours.map(async (a, i) => {
          await new Promise((r) => setTimeout(r, (i % 5) * 60));
          return backend.store({ run, artifact: a });
        }),
      ),
      otherProcess(image, 10),
      foreignWriter(tag, 5),
    ]);
    const elapsedMs = Date.now() - started;
    expect(results.flatMap((r) => (r.ok ? [] : [r.error.message]))).toEqual([]);
    const expected = [
      ...ours.map((a) => sha256Digest((a as { envelopeBytes: Uint8Array }).envelopeBytes)),
      ...child,
      ...foreign,
    ];
    expect(new Set(expected).size).toBe(35);
    const stored = await layerDigests(tag);
    expect(stored.filter((d) => !expected.includes(d))).toEqual([]);
    expect(expected.filter((d) => !stored.includes(d))).toEqual([]);
    expect(stored).toHaveLength(35);
    console.log(`[oci] 20 in-process + 10 child-process + 5 foreign appends to one tag in ${elapsedMs} ms`);
  }, 120_000);

  // Timing-independent: writers of one entry accept each other's write (the same entry, or with a
  // verifier an equal-payload entry, counts as stored), and every registry call is retried inside
  // the attempt, so no interleaving and no settle time (50 ms here) can fail a store.
  it('leaves one layer when the same envelope is stored twice, at once and again later', async () => {
    const image = await pushImage();
    const a = artifact(image);
    const backend = new OciBackend({
      logger: createLogger({ level: 'silent' }),
      insecure: true,
      network: LOCAL,
      settleMs: 50,
    });
    const other = new OciBackend({
      logger: createLogger({ level: 'silent' }),
      insecure: true,
      network: LOCAL,
      settleMs: 50,
    });
    const results = await Promise.all([
      backend.store({ run, artifact: a }),
      backend.store({ run, artifact: a }),
      other.store({ run, artifact: a }),
      other.store({ run, artifact: a }),
    ]);
    expect(results.flatMap((r) => (r.ok ? [] : [r.error.message]))).toEqual([]);
    expect(await backend.store({ run, artifact: a })).toMatchObject({ ok: true });
    expect(await layerDigests(digestTag(image.digest, '.att'))).toEqual([
      sha256Digest((a as { envelopeBytes: Uint8Array }).envelopeBytes),
    ]);
  });
});

/**
 * The foreign writer retries a read the registry answered 5xx, as a careful client would:
 * distribution's filesystem driver can answer 500 to a tag read racing a write of that tag.
 */
async function retryServerErrors<T>(read: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (err) {
      if (attempt >= 5 || !/registry_server_error/.test((err as Error).message)) throw err;
      // a short pause before the next read (a bounded retry, not a wait for state)
      await new Promise((r) => setTimeout(r, 50 * attempt));
    }
  }
}
