import { generateKeyPairSync } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { Attestor } from '../../../src/attest/index.ts';
import { parseConfig } from '../../../src/config/index.ts';
import { ObserverError } from '../../../src/errors.ts';
import { createMetrics } from '../../../src/observability/index.ts';
import { loadX509Pem, type TenantSigner } from '../../../src/signing/index.ts';
import {
  type BackendName,
  payloadAnnotation,
  type SignedArtifact,
  type StorageBackend,
  signatureAnnotation,
} from '../../../src/storage/index.ts';
import { scopedKeyVerifier, verifyEnvelope } from '../../../src/verify/index.ts';
import { FakeBackend, taskRunRef as run, taskRun } from '../fakes.ts';

const digest = `sha256:${'c'.repeat(64)}`;
const keyPair = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signerOf = (k: ReturnType<typeof keyPair>) =>
  loadX509Pem(new TextEncoder().encode(k.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()), {
    namespace: 'ns',
    name: 's',
    entry: 'x509.pem',
  });

describe('Attestor with a tenant key (signing.tenant-keys)', () => {
  const platformKey = keyPair();
  const tenantKey = keyPair();
  const platform = signerOf(platformKey);
  const tenant: TenantSigner = { tenant: 'team-a', signer: signerOf(tenantKey) };
  let oci: FakeBackend;
  const input = taskRun([
    { name: 'IMAGE_URL', value: 'registry.test/app' },
    { name: 'IMAGE_DIGEST', value: digest },
  ]);
  const attestor = (tenantSigner: () => Promise<TenantSigner | undefined>) =>
    new Attestor({
      config: parseConfig({ 'artifacts.taskrun.format': 'slsa/v1.0', 'artifacts.taskrun.storage': 'oci' }),
      backends: new Map<BackendName, StorageBackend>([['oci', oci]]),
      metrics: createMetrics(),
      tenantSigner,
    });
  beforeEach(() => {
    oci = new FakeBackend('oci');
  });
  const stored = (type: SignedArtifact['type']) =>
    oci.requests.map((r) => r.artifact).filter((a) => a.type === type);

  it("signs the provenance with the platform key and the run's tenant key, and a .sig per key", async () => {
    const out = await attestor(async () => tenant).attest(run, input, [], platform);
    expect(out.ok).toBe(true);
    const [provenance] = stored('provenance');
    if (provenance?.type !== 'provenance') throw new Error('no provenance');
    expect(provenance.envelope.signatures.map((s) => s.keyid)).toEqual([platform.keyId, tenant.signer.keyId]);
    expect(provenance).toMatchObject({
      keyId: platform.keyId,
      tenant: 'team-a',
      tenantKeyId: tenant.signer.keyId,
    });
    expect(verifyEnvelope(provenance.envelope, platformKey.publicKey).ok).toBe(true);
    expect(verifyEnvelope(provenance.envelope, tenantKey.publicKey).ok).toBe(true);
    const sigs = stored('image-signature');
    expect(sigs.map((s) => [s.key, s.type === 'image-signature' && s.signedBy])).toEqual([
      ['cccccccccccc', undefined],
      ['cccccccccccc-team-a', 'team-a'],
    ]);
  });

  it('a tenant whose key is not loaded fails the attempt (retryable): nothing signed by the platform key alone', async () => {
    const missing = async (): Promise<TenantSigner> => {
      throw new ObserverError('no signing key for tenant team-a', {
        code: 'key_unavailable',
        retryable: true,
      });
    };
    await expect(attestor(missing).attest(run, input, [], platform)).rejects.toMatchObject({
      retryable: true,
    });
    expect(oci.requests).toHaveLength(0);
  });

  it('a namespace without a tenant key: one signature, one .sig, as before', async () => {
    await attestor(async () => undefined).attest(run, input, [], platform);
    const [provenance] = stored('provenance');
    expect(provenance?.type === 'provenance' && provenance.envelope.signatures).toHaveLength(1);
    expect(stored('image-signature')).toHaveLength(1);
  });
});

describe("adopting a tenant run's own envelope (after an index loss)", () => {
  const platformKey = keyPair();
  const tenantKey = keyPair();
  const platform = signerOf(platformKey);
  const tenant: TenantSigner = { tenant: 'team-a', signer: signerOf(tenantKey) };
  const info = (s: { keyId: string; publicKeyPem: string }) =>
    [{ keyId: s.keyId, publicKeyPem: s.publicKeyPem, active: true }] as never;
  const results = [
    { name: 'IMAGE_URL', value: 'registry.test/app' },
    { name: 'IMAGE_DIGEST', value: digest },
  ];
  const attestor = (tekton: FakeBackend, withTenant: boolean) =>
    new Attestor({
      config: parseConfig({ 'artifacts.taskrun.storage': 'tekton', 'artifacts.oci.storage': 'tekton' }),
      backends: new Map<BackendName, StorageBackend>([['tekton', tekton]]),
      metrics: createMetrics(),
      verifies: scopedKeyVerifier(
        () => info(platform),
        (name) => (name === 'team-a' ? info(tenant.signer) : []),
      ),
      tenantSigner: async () => (withTenant ? tenant : undefined),
    });
  async function annotationsAfter(withTenant: boolean) {
    const tekton = new FakeBackend('tekton');
    await attestor(tekton, withTenant).attest(run, taskRun(results), [], platform);
    const artifact = tekton.requests.find((r) => r.artifact.type === 'provenance')?.artifact;
    if (artifact?.type !== 'provenance') throw new Error('no provenance stored');
    return {
      [payloadAnnotation(artifact.key)]: Buffer.from(artifact.payload).toString('base64'),
      [signatureAnnotation(artifact.key)]: Buffer.from(artifact.envelopeBytes).toString('base64'),
    };
  }

  it('adopts an envelope carrying both signatures', async () => {
    const annotations = await annotationsAfter(true);
    const out = await attestor(new FakeBackend('tekton'), true).attest(
      run,
      taskRun(results, annotations),
      [],
      platform,
    );
    expect(out.adopted).toBe(true);
    expect(out.provenance?.artifact).toMatchObject({ tenant: 'team-a' });
  });

  it('does not adopt one signed by the platform key alone: signs it anew with both keys', async () => {
    const annotations = await annotationsAfter(false);
    const out = await attestor(new FakeBackend('tekton'), true).attest(
      run,
      taskRun(results, annotations),
      [],
      platform,
    );
    expect(out.adopted).toBe(false);
    expect(out.provenance?.artifact.envelope.signatures.map((s) => s.keyid)).toEqual([
      platform.keyId,
      tenant.signer.keyId,
    ]);
  });
});
