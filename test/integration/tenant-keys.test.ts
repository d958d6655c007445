import { execFile } from 'node:child_process';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import {
  ApiException,
  CoreV1Api,
  type KubernetesObject,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { createLogger } from '../../src/observability/index.ts';
import { digestTag, RegistryClient } from '../../src/oci/index.ts';
import type { PublicKeyInfo } from '../../src/signing/index.ts';
import { OciBackend } from '../../src/storage/index.ts';
import { scopedKeyVerifier, verifyEnvelope } from '../../src/verify/index.ts';
import { applyObject, kubeConfigFor, type LocalEnv, loadLocalEnv } from '../env/index.ts';
import { checkedImage } from '../helpers/checked-images.ts';
import { startTestObserver, type TestObserver } from '../helpers/observer.ts';
import { opensslVerifiesEnvelope } from '../helpers/openssl-dsse.ts';
import { pythonVerifiesEnvelope, pythonVerifiesRaw } from '../helpers/python-verify.ts';
import { signedImageSignature } from '../helpers/signed-artifacts.ts';
import { createSoftHsmToken } from '../helpers/softhsm.ts';
import { completeBuildTaskRun, getRun, runEvents, waitFor, waitForSigned } from '../helpers/tekton.ts';
import { pushTestImage } from '../helpers/test-image.ts';

/**
 * Two tenants with their own keys and one platform key, on the real apiserver and registry:
 * deploy/examples/tenant-keys.yaml applied as it is (RBAC on exactly the tenants' Secrets, empty
 * public-key Secrets), tenant-a selected by name and tenant-b by a label selector, tenant-c's key
 * inside a SoftHSM2 token. Each
 * attestation verifies with its tenant's key and the platform's, never another tenant's, with our
 * verifier, our `verify` command, openssl and Debian's python3-cryptography; `.sig` has one
 * layer per key, once; one tenant's rotation leaves the other untouched.
 */
const root = resolve(import.meta.dirname, '../..');
const exec = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'tenant-keys-'));
const TENANT_KEYS = `tenants:
  - name: tenant-a
    namespaces: [tenant-a]
    secret: tenant-a-signing
    publicKeySecret: public-key-tenant-a
  - name: tenant-b
    namespaceSelector:
      matchLabels: {tenant-keys.test/tenant: b}
    secret: tenant-b-signing
    publicKeySecret: public-key-tenant-b
  - name: tenant-c
    namespaces: [tenant-c]
    kmsref: "KMSREF"
  - name: tenant-d
    namespaces: [tenant-d]
    secret: tenant-d-signing
`;

type Key = { keyId: string; publicKeyPem: string; active: boolean; tenant?: string };
type Envelope = { payloadType: string; payload: string; signatures: { keyid: string; sig: string }[] };

function newKey() {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    pkcs8: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
  };
}

const core = () => kubeConfigFor('admin').makeApiClient(CoreV1Api);

async function putSecret(namespace: string, name: string, data: Record<string, string>) {
  await core()
    .deleteNamespacedSecret({ name, namespace })
    .catch((err) => {
      if (!(err instanceof ApiException && err.code === 404)) throw err;
    });
  await core().createNamespacedSecret({ namespace, body: { metadata: { name }, stringData: data } });
}

function pemFile(name: string, pem: string): string {
  const path = join(dir, name);
  writeFileSync(path, pem);
  return path;
}

async function verifyCli(...args: string[]): Promise<{ code: number; out: string }> {
  return exec(process.execPath, ['bin/provenance-observer.js', 'verify', ...args], { cwd: root }).then(
    ({ stdout }) => ({ code: 0, out: stdout }),
    (err: { code: number; stdout: string; stderr: string }) => ({
      code: err.code,
      out: err.stdout + err.stderr,
    }),
  );
}

describe('per-tenant keys under the platform countersignature', { timeout: 180_000 }, () => {
  let env: LocalEnv;
  let obs: TestObserver;
  const a = newKey();
  const b = newKey();

  beforeAll(async () => {
    env = loadLocalEnv();
    const example = readFileSync(join(root, 'deploy/examples/tenant-keys.yaml'), 'utf8');
    for (const doc of parseAllDocuments(example)) {
      const obj = doc.toJS() as KubernetesObject & { metadata: { namespace?: string } };
      obj.metadata.namespace = env.observerNamespace;
      await applyObject(kubeConfigFor('admin'), obj);
    }
    await putSecret(env.observerNamespace, 'tenant-a-signing', {
      'x509.pem': a.pkcs8,
      'cosign.pub': a.publicKeyPem,
    });
    await putSecret(env.observerNamespace, 'tenant-b-signing', {
      'x509.pem': b.pkcs8,
      'cosign.pub': b.publicKeyPem,
    });
    // a label only the admin can set (this apiserver does not add kubernetes.io/metadata.name)
    await core().patchNamespace(
      { name: 'tenant-b', body: { metadata: { labels: { 'tenant-keys.test/tenant': 'b' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    // tenant-c's key is inside a SoftHSM2 token: generated there, never outside it
    for (const name of ['tenant-c', 'tenant-d'])
      await core()
        .createNamespace({ body: { metadata: { name } } })
        .catch((err) => {
          if (!(err instanceof ApiException && err.code === 409)) throw err;
        });
    // tenant-d's Secret is made late (in its test): none yet
    await core()
      .deleteNamespacedSecret({ name: 'tenant-d-signing', namespace: env.observerNamespace })
      .catch(() => undefined);
    const token = createSoftHsmToken('tenant-c');
    process.env.SOFTHSM2_CONF = token.conf;
    token.generate('EC:prime256v1', 'tenant-c', '0c');
    obs = await startTestObserver(env, {
      'signing.tenant-keys': TENANT_KEYS.replace('KMSREF', token.uri('tenant-c')),
    });
  });
  afterAll(async () => obs?.stop());

  /** Builds an image in `namespace` and returns the run's envelope and the image. */
  async function attest(namespace: string, prefix: string, image?: { ref: string; digest: string }) {
    const built = image ?? (await pushTestImage(env.registry, `tenant-keys/${prefix}-${Date.now()}`));
    const name = await completeBuildTaskRun(built, { name: `${prefix}-${Date.now()}`, namespace });
    const run = await waitForSigned('TaskRun', namespace, name);
    const b64 = run.metadata.annotations?.[`chains.tekton.dev/signature-taskrun-${run.metadata.uid}`] ?? '';
    return { envelope: Buffer.from(b64, 'base64').toString(), image: built };
  }

  async function sigLayers(image: { ref: string; digest: string }) {
    const repository = image.ref.slice(env.registry.length + 1).split(/[@:]/)[0] ?? '';
    const client = new RegistryClient({ registry: env.registry, insecure: true });
    const m = await client.getManifest(repository, digestTag(image.digest, '.sig'));
    const layers = m
      ? (JSON.parse(Buffer.from(m.bytes).toString()).layers as {
          digest: string;
          annotations: Record<string, string>;
        }[])
      : [];
    const payload = layers[0] ? await client.getBlob(repository, layers[0].digest) : new Uint8Array();
    return { payload, sigs: layers.map((l) => l.annotations['dev.cosignproject.cosign/signature'] ?? '') };
  }

  it("signs each tenant's statements with its key and the platform key, never another tenant's", async () => {
    for (const [namespace, own, other] of [
      ['tenant-a', a, b],
      ['tenant-b', b, a],
    ] as const) {
      const { envelope } = await attest(namespace, 'both');
      const parsed = JSON.parse(envelope) as Envelope;
      expect(parsed.signatures).toHaveLength(2);
      const platform = verifyEnvelope(envelope, obs.publicKeyPem);
      const tenant = verifyEnvelope(envelope, own.publicKeyPem);
      expect(platform.ok && tenant.ok).toBe(true);
      // each signature names its key: the platform's first, then the tenant's
      expect(parsed.signatures.map((s) => s.keyid)).toEqual([
        platform.ok && platform.keyId,
        tenant.ok && tenant.keyId,
      ]);
      expect(verifyEnvelope(envelope, other.publicKeyPem).ok).toBe(false);
      // independent verifiers: python3-cryptography with either key, not the other tenant's
      expect(pythonVerifiesEnvelope(envelope, obs.publicKeyPem)).toBe(true);
      expect(pythonVerifiesEnvelope(envelope, own.publicKeyPem)).toBe(true);
      expect(pythonVerifiesEnvelope(envelope, other.publicKeyPem)).toBe(false);
      // openssl reads signatures[0]: the platform's, so tools that know only the platform key still work
      expect(opensslVerifiesEnvelope(envelope, obs.publicKeyPem)).toBe(true);
    }
  });

  it('stores one .sig layer per key, each exactly once, also when another run signs the same image', async () => {
    const first = await attest('tenant-a', 'sig');
    const once = await sigLayers(first.image);
    expect(once.sigs).toHaveLength(2);
    const byKey = (pem: string) => once.sigs.filter((s) => pythonVerifiesRaw(once.payload, s, pem));
    expect(byKey(obs.publicKeyPem)).toHaveLength(1);
    expect(byKey(a.publicKeyPem)).toHaveLength(1);
    expect(byKey(b.publicKeyPem)).toHaveLength(0);
    await attest('tenant-a', 'sig-again', first.image);
    expect((await sigLayers(first.image)).sigs).toHaveLength(2);
  });

  it("OciBackend: the platform's and a tenant's .sig in one batch, re-signed, are each added once", async () => {
    const { privateKey: platformKey, publicKey: platformPub } = generateKeyPairSync('ec', {
      namedCurve: 'P-256',
    });
    const tenantPair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const info = (k: KeyObject): PublicKeyInfo[] => [
      {
        keyId: 'k',
        algorithm: 'ecdsa-p256-sha256',
        publicKeyPem: k.export({ type: 'spki', format: 'pem' }).toString(),
        active: true,
      },
    ];
    const keys = { platform: info(platformPub), tenant: info(tenantPair.publicKey) };
    // the first read of the .sig tag waits until every store below has queued behind it, so ours
    // all go out as one batch (KeyedBatcher), the case where a wrong identity would merge them
    let hit = () => {};
    const reached = new Promise<void>((r) => {
      hit = r;
    });
    let release = () => {};
    const released = new Promise<void>((r) => {
      release = r;
    });
    let gated = false;
    const gate: typeof fetch = async (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      if (!gated && /\/manifests\/sha256-[0-9a-f]{64}\.sig$/.test(url)) {
        gated = true;
        hit();
        await released;
      }
      return fetch(input, init);
    };
    const backend = new OciBackend({
      logger: createLogger({ level: 'silent' }),
      insecure: true,
      fetch: gate,
      network: { allowedPrivate: ['127.0.0.1'] },
      verifies: scopedKeyVerifier(
        () => keys.platform,
        (name) => (name === 'tenant-a' ? keys.tenant : []),
      ),
    });
    const repository = `tenant-keys/backend-${Date.now()}`;
    const pushed = await pushTestImage(env.registry, repository);
    const image = await checkedImage({ repository: `${env.registry}/${repository}`, digest: pushed.digest });
    const run = {
      kind: 'TaskRun',
      namespace: 'tenant-a',
      name: 'r',
      uid: 'u',
      serviceAccountName: 'default',
    } as const;
    // a layer signed by an unpublished key goes first and holds the tag …
    const planted = backend.store({ run, artifact: signedImageSignature(image, stranger.privateKey) });
    await reached;
    // … while three attempts of ours (fresh ECDSA signatures every time) queue behind it
    const stores = [1, 2, 3].flatMap(() => [
      backend.store({ run, artifact: signedImageSignature(image, platformKey) }),
      backend.store({
        run,
        artifact: {
          ...signedImageSignature(image, tenantPair.privateKey),
          key: 'x-tenant-a',
          signedBy: 'tenant-a',
        },
      }),
    ]);
    await new Promise((r) => setTimeout(r, 300));
    release();
    for (const result of await Promise.all([planted, ...stores])) expect(result.ok).toBe(true);
    const { payload, sigs } = await sigLayers({ ref: pushed.ref, digest: pushed.digest });
    const platformPem = keys.platform[0]?.publicKeyPem ?? '';
    const tenantPem = keys.tenant[0]?.publicKeyPem ?? '';
    expect(sigs).toHaveLength(3);
    expect(sigs.filter((s) => pythonVerifiesRaw(payload, s, platformPem))).toHaveLength(1);
    expect(sigs.filter((s) => pythonVerifiesRaw(payload, s, tenantPem))).toHaveLength(1);
  });

  it('verify accepts the two-signature envelope with the key(s) --require names', async () => {
    const { envelope, image } = await attest('tenant-a', 'cli');
    const file = pemFile('envelope.json', envelope);
    const platform = pemFile('platform.pem', obs.publicKeyPem);
    const ka = pemFile('a.pem', a.publicKeyPem);
    const kb = pemFile('b.pem', b.publicKeyPem);
    expect((await verifyCli('--key', platform, '--envelope', file)).code).toBe(0);
    expect((await verifyCli('--tenant-key', ka, '--envelope', file)).code).toBe(0);
    const both = await verifyCli('--key', platform, '--tenant-key', ka, '--envelope', file);
    expect(both.out).toMatch(/ok {3}dsse signature, tenant key \(key SHA256:/);
    expect(both.code).toBe(0);
    expect((await verifyCli('--key', platform, '--tenant-key', kb, '--envelope', file)).code).toBe(1);
    expect((await verifyCli('--tenant-key', kb, '--require', 'tenant', '--envelope', file)).code).toBe(1);
    // the same key twice is not two signatures
    expect((await verifyCli('--key', platform, '--tenant-key', platform, '--envelope', file)).code).toBe(1);
    const img = ['--image', `${image.ref.split('@')[0]}@${image.digest}`, '--insecure-registry'];
    const good = await verifyCli('--key', platform, '--tenant-key', ka, ...img);
    expect(good.out).toContain('ok   .sig by required key 2');
    expect(good.code).toBe(0);
    expect((await verifyCli('--key', platform, '--tenant-key', kb, ...img)).code).toBe(1);
  });

  it('publishes keys per namespace: /api/v1/keys?namespace= and one public-key Secret per tenant', async () => {
    const keysOf = async (ns?: string) =>
      (await obs.api(`/api/v1/keys${ns ? `?namespace=${ns}` : ''}`)).json<{ keys: Key[] }>().keys;
    const platformOnly = await keysOf();
    expect(platformOnly.map((k) => k.tenant)).toEqual([undefined]);
    const ofA = await keysOf('tenant-a');
    expect(ofA.map((k) => [k.tenant, k.publicKeyPem])).toEqual([
      ['tenant-a', a.publicKeyPem],
      [undefined, platformOnly[0]?.publicKeyPem],
    ]);
    expect((await keysOf('tenant-b'))[0]?.publicKeyPem).toBe(b.publicKeyPem);
    expect(await keysOf('default')).toEqual(platformOnly);
    // the same from the command line: get keys -n <ns> adds a TENANT column
    const server = ['--server', obs.observer.apiAddress as string, '--ca-file', obs.apiCert.certFile];
    const { stdout } = await exec(
      process.execPath,
      ['bin/provenance-observer.js', 'get', 'keys', '-n', 'tenant-a', ...server],
      {
        cwd: root,
      },
    );
    expect(stdout).toMatch(
      /^KEY ID\s+ALGORITHM\s+ACTIVE\s+TENANT\nSHA256:\S+\s+ecdsa-p256-sha256\s+true\s+tenant-a\nSHA256:\S+\s+ecdsa-p256-sha256\s+true\s+-\n$/,
    );
    for (const [name, key] of [
      ['public-key-tenant-a', a],
      ['public-key-tenant-b', b],
    ] as const) {
      const pub = await waitFor(`${name} written`, async () => {
        const s = await core().readNamespacedSecret({ name, namespace: env.observerNamespace });
        return s.data?.['cosign.pub'] && Buffer.from(s.data['cosign.pub'], 'base64').toString();
      });
      expect(pub).toBe(key.publicKeyPem);
    }
  });

  it('signs a tenant whose key is in a PKCS#11 token, with the platform key beside it', async () => {
    const keys = (await obs.api('/api/v1/keys?namespace=tenant-c')).json<{ keys: Key[] }>().keys;
    const tokenKey = keys.find((k) => k.tenant === 'tenant-c');
    expect(tokenKey?.active).toBe(true);
    const { envelope } = await attest('tenant-c', 'hsm');
    expect(JSON.parse(envelope).signatures.map((s: { keyid: string }) => s.keyid)[1]).toBe(tokenKey?.keyId);
    expect(pythonVerifiesEnvelope(envelope, tokenKey?.publicKeyPem ?? '')).toBe(true);
    expect(pythonVerifiesEnvelope(envelope, obs.publicKeyPem)).toBe(true);
    for (const other of [a, b]) expect(pythonVerifiesEnvelope(envelope, other.publicKeyPem)).toBe(false);
  });

  it('a tenant whose key is not there yet waits, counting no attempt, and is signed once it is', async () => {
    const image = await pushTestImage(env.registry, `tenant-keys/late-${Date.now()}`);
    const name = await completeBuildTaskRun(image, { name: `late-${Date.now()}`, namespace: 'tenant-d' });
    const event = await waitFor('TenantKeyUnavailable on the run', async () =>
      (await runEvents(kubeConfigFor('admin'), 'tenant-d', name)).find(
        (e) => e.reason === 'TenantKeyUnavailable',
      ),
    );
    expect(event.message).toMatch(/no signing key for tenant tenant-d \(namespace tenant-d\)/);
    const run = await getRun(kubeConfigFor('admin'), 'TaskRun', 'tenant-d', name);
    expect(run.metadata.annotations?.['chains.tekton.dev/signed']).toBeUndefined();
    expect(run.metadata.annotations?.['chains.tekton.dev/retries']).toBeUndefined();
    // the platform admin adds the Secret and lets the observer read it: the run is signed
    const d = newKey();
    await applyObject(kubeConfigFor('admin'), {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'provenance-observer-tenant-d-key', namespace: env.observerNamespace },
      rules: [
        { apiGroups: [''], resources: ['secrets'], resourceNames: ['tenant-d-signing'], verbs: ['get'] },
      ],
    } as KubernetesObject);
    await applyObject(kubeConfigFor('admin'), {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'provenance-observer-tenant-d-key', namespace: env.observerNamespace },
      roleRef: {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'Role',
        name: 'provenance-observer-tenant-d-key',
      },
      subjects: [{ kind: 'ServiceAccount', name: 'provenance-observer', namespace: env.observerNamespace }],
    } as KubernetesObject);
    await putSecret(env.observerNamespace, 'tenant-d-signing', {
      'x509.pem': d.pkcs8,
      'cosign.pub': d.publicKeyPem,
    });
    const signed = await waitForSigned('TaskRun', 'tenant-d', name);
    const uid = signed.metadata.uid;
    const envelope = Buffer.from(
      signed.metadata.annotations?.[`chains.tekton.dev/signature-taskrun-${uid}`] ?? '',
      'base64',
    ).toString();
    expect(verifyEnvelope(envelope, d.publicKeyPem).ok).toBe(true);
    expect(verifyEnvelope(envelope, obs.publicKeyPem).ok).toBe(true);
  });

  it("tenants cannot read any key Secret, their own tenant key's included", async () => {
    const asTenant = kubeConfigFor('tenantA').makeApiClient(CoreV1Api);
    for (const name of ['tenant-a-signing', 'tenant-b-signing', 'signing-secrets']) {
      const status = await asTenant.readNamespacedSecret({ name, namespace: env.observerNamespace }).then(
        () => 200,
        (err: ApiException<unknown>) => err.code,
      );
      expect(status, name).toBe(403);
    }
  });

  it("rotating tenant-a's key leaves tenant-b's untouched", async () => {
    const bSecret = () =>
      core().readNamespacedSecret({ name: 'public-key-tenant-b', namespace: env.observerNamespace });
    const bBefore = (await bSecret()).metadata?.resourceVersion;
    const bKeysBefore = (await obs.api('/api/v1/keys?namespace=tenant-b')).json<{ keys: Key[] }>().keys;
    const rotated = newKey();
    await putSecret(env.observerNamespace, 'tenant-a-signing', {
      'x509.pem': rotated.pkcs8,
      'cosign.pub': rotated.publicKeyPem,
      'retired-1.pub': a.publicKeyPem,
    });
    const keys = await waitFor('tenant-a rotated', async () => {
      const k = (await obs.api('/api/v1/keys?namespace=tenant-a')).json<{ keys: Key[] }>().keys;
      return k.filter((x) => x.tenant === 'tenant-a').length === 2 ? k : undefined;
    });
    expect(keys.slice(0, 2).map((k) => [k.publicKeyPem, k.active])).toEqual([
      [rotated.publicKeyPem, true],
      [a.publicKeyPem, false],
    ]);
    const after = await attest('tenant-a', 'rotated');
    expect(verifyEnvelope(after.envelope, rotated.publicKeyPem).ok).toBe(true);
    expect(verifyEnvelope(after.envelope, a.publicKeyPem).ok).toBe(false);
    expect(verifyEnvelope(after.envelope, obs.publicKeyPem).ok).toBe(true);
    // tenant-b: the same keys, the same public-key Secret (not even rewritten), still signing with b
    const stillB = await attest('tenant-b', 'untouched');
    expect(verifyEnvelope(stillB.envelope, b.publicKeyPem).ok).toBe(true);
    expect(verifyEnvelope(stillB.envelope, rotated.publicKeyPem).ok).toBe(false);
    expect((await obs.api('/api/v1/keys?namespace=tenant-b')).json<{ keys: Key[] }>().keys).toEqual(
      bKeysBefore,
    );
    expect((await bSecret()).metadata?.resourceVersion).toBe(bBefore);
  });
});
