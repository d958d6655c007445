import { generateKeyPairSync } from 'node:crypto';
import { CoreV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeConfigFor, type LocalEnv, loadLocalEnv, setupCluster } from '../env/index.ts';
import { putSigningSecret, startTestObserver, type TestObserver } from '../helpers/observer.ts';
import { opensslVerifiesEnvelope } from '../helpers/openssl-dsse.ts';
import { completeBuildTaskRun, waitFor, waitForSigned } from '../helpers/tekton.ts';
import { pushTestImage } from '../helpers/test-image.ts';

const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const PEM_BLOCK = /-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----\n/g;

// Konflux/Conforma read the key as k8s://<namespace>/public-key: any authenticated user reads
// `cosign.pub` there and verifies attestations with it, before and after a key rotation.
describe('the public-key Secret', () => {
  let env: LocalEnv;
  let obs: TestObserver;
  // tenant-a-dev: an ordinary authenticated user with no grant in the observer's namespace
  const asUser = () => kubeConfigFor('tenantA').makeApiClient(CoreV1Api);

  beforeAll(async () => {
    env = loadLocalEnv();
    await setupCluster(kubeConfigFor('admin')); // the install's empty public-key Secret and its RBAC
    await clearPublicKey(env);
    obs = await startTestObserver(env);
  });
  afterAll(async () => obs?.stop());

  async function publishedKeys(count: number): Promise<string[]> {
    return waitFor(`${count} key(s) in public-key`, async () => {
      const secret = await asUser().readNamespacedSecret({
        name: 'public-key',
        namespace: env.observerNamespace,
      });
      const pem = Buffer.from(secret.data?.['cosign.pub'] ?? '', 'base64').toString();
      const blocks = pem.match(PEM_BLOCK) ?? [];
      return blocks.length === count && blocks.join('') === pem ? blocks : undefined;
    });
  }

  async function attestOne(prefix: string): Promise<string> {
    const image = await pushTestImage(env.registry, `public-key/${prefix}-${Date.now()}`);
    const name = await completeBuildTaskRun(image, { name: `pk-${prefix}-${Date.now()}` });
    const run = await waitForSigned('TaskRun', 'tenant-a', name);
    const b64 = run.metadata.annotations?.[`chains.tekton.dev/signature-taskrun-${run.metadata.uid}`] ?? '';
    return Buffer.from(b64, 'base64').toString();
  }

  it('is readable by any authenticated user, holds the signing key and verifies, before and after a rotation', async () => {
    const [first] = await publishedKeys(1);
    expect(first?.trim()).toBe(obs.publicKeyPem.trim());
    const before = await attestOne('before');
    expect(opensslVerifiesEnvelope(before, first as string)).toBe(true);

    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const newPem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
    await putSigningSecret(env, {
      'x509.pem': privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      'cosign.pub': newPem,
      'retired-1.pub': obs.publicKeyPem,
    });
    const rotated = await publishedKeys(2);
    // the active key first: a tool that reads one PEM block verifies what is signed now
    expect(rotated[0]?.trim()).toBe(newPem.trim());
    const after = await attestOne('after');
    expect(opensslVerifiesEnvelope(after, rotated[0] as string)).toBe(true);
    expect(opensslVerifiesEnvelope(after, rotated[1] as string)).toBe(false);
    // what was signed before the rotation still verifies with a key of the Secret
    expect(opensslVerifiesEnvelope(before, rotated[1] as string)).toBe(true);
  });

  it('is put back when someone else overwrites it, and the user may read but not change it', async () => {
    const admin = kubeConfigFor('admin').makeApiClient(CoreV1Api);
    const expected = await publishedKeys(2);
    await admin.patchNamespacedSecret(
      {
        name: 'public-key',
        namespace: env.observerNamespace,
        body: { data: { 'cosign.pub': Buffer.from('tampered').toString('base64') } },
      },
      MERGE,
    );
    expect(await publishedKeys(2)).toEqual(expected);
    const denied = await asUser()
      .patchNamespacedSecret(
        { name: 'public-key', namespace: env.observerNamespace, body: { data: {} } },
        MERGE,
      )
      .then(
        () => 200,
        (err: { code?: number }) => err.code,
      );
    expect(denied).toBe(403);
    const signing = await asUser()
      .readNamespacedSecret({ name: 'signing-secrets', namespace: env.observerNamespace })
      .then(
        () => 200,
        (err: { code?: number }) => err.code,
      );
    expect(signing).toBe(403);
  });
});

/** A fresh start: the Secret as the install leaves it (no cosign.pub). */
async function clearPublicKey(env: LocalEnv): Promise<void> {
  const admin = kubeConfigFor('admin').makeApiClient(CoreV1Api);
  await admin.patchNamespacedSecret(
    {
      name: 'public-key',
      namespace: env.observerNamespace,
      body: { data: { 'cosign.pub': null } },
    },
    MERGE,
  );
}
