import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalEnv, loadLocalEnv } from '../env/index.ts';
import { putSigningSecret, startTestObserver, type TestObserver } from '../helpers/observer.ts';
import { opensslVerifiesEnvelope } from '../helpers/openssl-dsse.ts';
import { completeBuildTaskRun, waitFor, waitForSigned } from '../helpers/tekton.ts';
import { pushTestImage } from '../helpers/test-image.ts';

type Keys = { keys: { keyId: string; algorithm: string; publicKeyPem: string; active: boolean }[] };

// Rotation without a restart: the Secret changes, the next attestation is signed with the new
// key, and the old public key stays published so attestations made before still verify.
describe('key rotation through the signing Secret', () => {
  let env: LocalEnv;
  let obs: TestObserver;
  beforeAll(async () => {
    env = loadLocalEnv();
    obs = await startTestObserver(env);
  });
  afterAll(async () => obs?.stop());

  async function attestOne(prefix: string): Promise<string> {
    const image = await pushTestImage(env.registry, `rotation/${prefix}-${Date.now()}`);
    const name = await completeBuildTaskRun(image, { name: `${prefix}-${Date.now()}` });
    const run = await waitForSigned('TaskRun', 'tenant-a', name);
    return Buffer.from(
      run.metadata.annotations?.[`chains.tekton.dev/signature-taskrun-${run.metadata.uid}`] ?? '',
      'base64',
    ).toString();
  }

  it('signs with the new key after the Secret changes, and keeps the old public key published', async () => {
    const before = await attestOne('before');
    const oldKeys = (await obs.api('/api/v1/keys')).json<Keys>();
    expect(oldKeys.keys).toHaveLength(1);
    const oldKey = oldKeys.keys[0]!;

    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const newPublicPem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
    await putSigningSecret(env, {
      'x509.pem': privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      'cosign.pub': newPublicPem,
      'retired-1.pub': oldKey.publicKeyPem,
    });
    const keys = await waitFor('the rotated key set', async () => {
      const k = (await obs.api('/api/v1/keys')).json<Keys>();
      return k.keys.length === 2 ? k : undefined;
    });
    expect(keys.keys.map((k) => [k.keyId === oldKey.keyId, k.active])).toEqual([
      [false, true],
      [true, false],
    ]);

    const after = await attestOne('after');
    expect(JSON.parse(after).signatures[0].keyid).toBe(keys.keys[0]!.keyId);
    expect(opensslVerifiesEnvelope(after, newPublicPem)).toBe(true);
    expect(opensslVerifiesEnvelope(after, oldKey.publicKeyPem)).toBe(false);
    // the attestation made before the rotation still verifies with the published retired key
    expect(opensslVerifiesEnvelope(before, keys.keys[1]!.publicKeyPem)).toBe(true);
  });
});
