import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, type KeyObject, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleFromJSON } from '@sigstore/bundle';
import { describe, expect, it } from 'vitest';
import { SLSA_PROVENANCE_V1 } from '../../src/intoto/index.ts';
import { createLogger, createMetrics } from '../../src/observability/index.ts';
import { digestTag, RegistryClient, type RegistryCredentials, sha256Digest } from '../../src/oci/index.ts';
import type { CheckedImage } from '../../src/policy/index.ts';
import { OciBackend, type OciBackendOptions, type SignedArtifact } from '../../src/storage/index.ts';
import type { RunRef } from '../../src/tekton/run-ref.ts';
import { verifyImage } from '../../src/verify/image.ts';
import { loadLocalEnv } from '../env/local-env.ts';
import { checkedImage } from '../helpers/checked-images.ts';
import { opensslVerifiesEnvelope } from '../helpers/openssl-dsse.ts';
import { provenanceStatement, signedImageSignature, signedProvenance } from '../helpers/signed-artifacts.ts';

// PO_ENV_FILE lets these tests run against hand-started peers; normally .local/env/env.json.
const env = loadLocalEnv(process.env.PO_ENV_FILE || undefined);
const run: RunRef = {
  kind: 'TaskRun',
  namespace: 'tenant-a',
  name: 'build-1',
  uid: 'uid-1',
  serviceAccountName: 'pipeline',
};
const logger = createLogger({ level: 'silent' });
const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const publicKeyPem = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const enc = (s: string) => new TextEncoder().encode(s);
const tokenCreds: RegistryCredentials = {
  kind: 'basic',
  username: env.tokenRegistry.username,
  password: env.tokenRegistry.password,
};

/** A unique one-layer image pushed with our client (through whatever auth the client has). */
async function pushImage(client: RegistryClient, repository: string): Promise<CheckedImage> {
  const layer = await client.uploadBlob(repository, enc(randomUUID()));
  const config = enc(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [layer] },
      config: {},
    }),
  );
  const manifest = enc(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: await client.uploadBlob(repository, config),
        size: config.length,
      },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layer, size: 36 }],
    }),
  );
  const { digest } = await client.putManifest(
    repository,
    'v1',
    manifest,
    'application/vnd.oci.image.manifest.v1+json',
  );
  return checkedImage({ repository: `${client.registry}/${repository}`, digest });
}

/** A provenance artifact for these images, signed over the DSSE PAE with `key`. */
function provenance(
  images: readonly CheckedImage[],
  key: KeyObject = keys.privateKey,
): Extract<SignedArtifact, { type: 'provenance' }> {
  return signedProvenance(images, provenanceStatement(images), key);
}

function backend(o: Partial<OciBackendOptions> = {}): OciBackend {
  return new OciBackend({
    logger,
    insecure: true,
    settleMs: 50,
    network: { allowedPrivate: ['127.0.0.1'] },
    ...o,
  });
}

const skopeo = (...args: string[]) => execFileSync('skopeo', args, { encoding: 'utf8' });

describe('OciBackend on the plain registry (cosign layout)', () => {
  const client = new RegistryClient({ registry: env.registry, insecure: true });

  it('appends an attestation to .att that skopeo, sha256sum and openssl verify independently', async () => {
    const image = await pushImage(client, 'oci-test/app');
    const artifact = provenance([image]);
    const metrics = createMetrics();
    const result = await backend({ metrics }).store({ run, artifact });
    const att = `${image.repository}:${digestTag(image.digest, '.att')}`;
    expect(result).toEqual({ backend: 'oci', ok: true, locations: [att] });

    const raw = skopeo('inspect', '--tls-verify=false', '--raw', `docker://${att}`);
    const manifest = JSON.parse(raw);
    expect(manifest.layers).toHaveLength(1);
    expect(manifest.config.size).toBe(233);
    expect(manifest.layers[0]).toMatchObject({
      mediaType: 'application/vnd.dsse.envelope.v1+json',
      digest: sha256Digest(artifact.envelopeBytes),
      annotations: { 'dev.cosignproject.cosign/signature': '', predicateType: SLSA_PROVENANCE_V1 },
    });
    const dir = join(mkdtempSync(join(tmpdir(), 'oci-att-')), 'att');
    skopeo('copy', '-q', '--src-tls-verify=false', `docker://${att}`, `dir:${dir}`);
    const hex = manifest.layers[0].digest.slice(7);
    expect(execFileSync('sha256sum', [join(dir, hex)], { encoding: 'utf8' }).split(' ')[0]).toBe(hex);
    const config = readFileSync(join(dir, manifest.config.digest.slice(7)), 'utf8');
    expect(JSON.parse(config).rootfs.diff_ids).toEqual([manifest.layers[0].digest]);
    expect(opensslVerifiesEnvelope(readFileSync(join(dir, hex)), publicKeyPem)).toBe(true);
    const wrong = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString();
    expect(opensslVerifiesEnvelope(readFileSync(join(dir, hex)), wrong)).toBe(false);
    const counted = (await metrics.registryRequests.get()).values;
    expect(
      counted.find((v) => v.labels.method === 'PUT' && v.labels.status === '201')?.value,
    ).toBeGreaterThan(0);
  });

  it('writes one attestation to every image subject, and storing it again adds nothing', async () => {
    const images = [await pushImage(client, 'oci-test/multi-a'), await pushImage(client, 'oci-test/multi-b')];
    const artifact = provenance(images);
    const b = backend();
    const first = await b.store({ run, artifact });
    expect(first.ok && first.locations).toHaveLength(2);
    expect(await b.store({ run, artifact })).toMatchObject({ ok: true });
    for (const image of images) {
      const [registry, ...rest] = image.repository.split('/');
      const m = await new RegistryClient({ registry, insecure: true }).getManifest(
        rest.join('/'),
        digestTag(image.digest, '.att'),
      );
      expect(JSON.parse(new TextDecoder().decode(m?.bytes)).layers).toHaveLength(1);
    }
  });

  it('reports which image failed while still storing the others', async () => {
    const good = await pushImage(client, 'oci-test/partial');
    const missing = await checkedImage({
      repository: `127.0.0.1:${await closedPort()}/oci-test/gone`,
      digest: good.digest,
    });
    const result = await backend().store({ run, artifact: provenance([good, missing]) });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.message).toContain('1 of 2 image(s) failed');
    expect(result.error.message).toContain(missing.repository);
    expect(result.error.retryable).toBe(true);
    expect(await client.getManifest('oci-test/partial', digestTag(good.digest, '.att'))).toBeDefined();
  });

  it('writes an image signature to .sig, and verifyImage passes, then fails naming the check on a wrong key or a substituted layer', async () => {
    const image = await pushImage(client, 'oci-test/verify');
    const signed = signedImageSignature(image, keys.privateKey);
    const { payload } = signed;
    const b = backend();
    expect(
      await b.store({
        run,
        artifact: signed,
      }),
    ).toMatchObject({ ok: true });
    expect(await b.store({ run, artifact: provenance([image]) })).toMatchObject({ ok: true });

    const ref = `${image.repository}:v1`;
    const good = await verifyImage({
      image: ref,
      publicKeyPem,
      insecure: true,
      requireSignature: true,
      predicateType: SLSA_PROVENANCE_V1,
    });
    expect(good.checks.filter((c) => !c.ok)).toEqual([]);
    expect(good.ok).toBe(true);
    expect(good.image).toBe(`${image.repository}@${image.digest}`);
    expect(good.checks.map((c) => c.name)).toEqual(
      expect.arrayContaining([`.sig layer 0 (${sha256Digest(payload).slice(7, 19)}) signature`]),
    );

    const wrongKey = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString();
    const bad = await verifyImage({ image: ref, publicKeyPem: wrongKey, insecure: true });
    expect(bad.ok).toBe(false);
    expect(bad.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual([
      expect.stringMatching(/^\.att layer 0 .* DSSE signature$/),
      expect.stringMatching(/^\.sig layer 0 .* signature$/),
    ]);

    // Tamper: swap the .att layer for an envelope signed by another key (an attacker with push
    // rights; distribution verifies digests on upload, so a blob cannot be altered in place).
    const attTag = digestTag(image.digest, '.att');
    const att = JSON.parse(
      new TextDecoder().decode((await client.getManifest('oci-test/verify', attTag))?.bytes),
    );
    const forged = provenance(
      [image],
      generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
    ).envelopeBytes;
    await client.uploadBlob('oci-test/verify', forged);
    att.layers[0].digest = sha256Digest(forged);
    await client.putManifest('oci-test/verify', attTag, enc(JSON.stringify(att)), att.mediaType);
    const tampered = await verifyImage({ image: ref, publicKeyPem, insecure: true });
    expect(tampered.ok).toBe(false);
    expect(tampered.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual([
      expect.stringMatching(/^\.att layer 0 .* DSSE signature$/),
    ]);
  });

  it('fails retryably, naming the repository, when the registry is down', async () => {
    const port = await closedPort();
    const image = await checkedImage({
      repository: `127.0.0.1:${port}/oci-test/down`,
      digest: `sha256:${'1'.repeat(64)}`,
    });
    const result = await backend().store({ run, artifact: provenance([image]) });
    expect(result).toMatchObject({ ok: false, error: { code: 'storage', retryable: true } });
    expect(!result.ok && result.error.message).toContain(`127.0.0.1:${port}/oci-test/down`);
  });
});

describe('OciBackend on the token-auth registry', () => {
  it('stores through Bearer auth with the right credentials', async () => {
    const client = new RegistryClient({
      registry: env.tokenRegistry.address,
      insecure: true,
      credentials: tokenCreds,
    });
    const image = await pushImage(client, 'oci-test/secured');
    const b = backend({ credentials: { credentialsFor: async () => tokenCreds } });
    expect(await b.store({ run, artifact: provenance([image]) })).toMatchObject({ ok: true });
    const v = await verifyImage({
      image: `${image.repository}@${image.digest}`,
      publicKeyPem,
      insecure: true,
      credentials: tokenCreds,
    });
    expect(v.ok).toBe(true);
    const anonymous = await verifyImage({
      image: `${image.repository}@${image.digest}`,
      publicKeyPem,
      insecure: true,
    });
    expect(anonymous.ok).toBe(false);
  });

  it('answers wrong credentials with a clear, non-retryable error that does not contain them', async () => {
    const client = new RegistryClient({
      registry: env.tokenRegistry.address,
      insecure: true,
      credentials: tokenCreds,
    });
    const image = await pushImage(client, 'oci-test/secured');
    const wrong: RegistryCredentials = {
      kind: 'basic',
      username: env.tokenRegistry.username,
      password: 'not-the-password',
    };
    const result = await backend({ credentials: { credentialsFor: async () => wrong } }).store({
      run,
      artifact: provenance([image]),
    });
    expect(result).toMatchObject({ ok: false, error: { retryable: false } });
    if (result.ok) return;
    expect(result.error.message).toMatch(/HTTP 401 \(authentication or authorization failed\)/);
    expect(result.error.message).toContain(`${env.tokenRegistry.address}/oci-test/secured`);
    expect(result.error.message).not.toContain('not-the-password');
  });
});

describe('OciBackend in sigstore-bundle mode (referrers-tag fallback on distribution 2.8)', () => {
  it('attaches a bundle referrer and keeps one index entry per distinct bundle', async () => {
    const client = new RegistryClient({ registry: env.registry, insecure: true });
    const image = await pushImage(client, 'oci-test/bundle');
    const b = backend({ encoding: 'sigstore-bundle' });
    const artifact = provenance([image]);
    const result = await b.store({ run, artifact });
    expect(result.ok).toBe(true);
    expect(await b.store({ run, artifact })).toMatchObject({ ok: true });
    expect(await client.getReferrers('oci-test/bundle', image.digest)).toBeUndefined(); // no referrers API here

    const index = JSON.parse(
      new TextDecoder().decode((await client.getManifest('oci-test/bundle', digestTag(image.digest)))?.bytes),
    );
    expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(index.manifests).toHaveLength(1);
    expect(index.manifests[0]).toMatchObject({
      artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      annotations: { 'dev.sigstore.bundle.predicateType': SLSA_PROVENANCE_V1 },
    });
    const manifest = JSON.parse(
      new TextDecoder().decode(
        (await client.getManifest('oci-test/bundle', index.manifests[0].digest))?.bytes,
      ),
    );
    expect(manifest.subject.digest).toBe(image.digest);
    const bundleJson = JSON.parse(
      new TextDecoder().decode(await client.getBlob('oci-test/bundle', manifest.layers[0].digest)),
    );
    expect(bundleFromJSON(bundleJson).mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    expect(opensslVerifiesEnvelope(JSON.stringify(bundleJson.dsseEnvelope), publicKeyPem)).toBe(true);

    expect(await b.store({ run, artifact: provenance([image]) })).toMatchObject({ ok: true });
    const after = JSON.parse(
      new TextDecoder().decode((await client.getManifest('oci-test/bundle', digestTag(image.digest)))?.bytes),
    );
    expect(after.manifests).toHaveLength(2);
  });
});

/** A loopback port with nothing listening. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}
