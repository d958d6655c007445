import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuthorizationV1Api, CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyIdOf } from '../../src/signing/index.ts';
import { type Identity, kubeConfigFor, type LocalEnv, loadLocalEnv } from '../env/index.ts';
import { putSigningSecret, startTestObserver, type TestObserver } from '../helpers/observer.ts';
import { completeBuildTaskRun, getRun, runEvents, waitFor, waitForSigned } from '../helpers/tekton.ts';
import { pushTestImage } from '../helpers/test-image.ts';

// The signing key lives in the observer's namespace. Shown against the real apiserver's RBAC:
// tenants and their build service accounts cannot read it, the observer can; and nothing the
// service emits (logs, metrics, Events, annotations, API answers) contains the key's bytes.
describe('signing key isolation', () => {
  let env: LocalEnv;
  beforeAll(() => {
    env = loadLocalEnv();
  });

  const canGetSigningSecret = async (identity: Identity, user: string, groups: string[]) => {
    const api = kubeConfigFor('admin').makeApiClient(AuthorizationV1Api);
    const review = await api.createSubjectAccessReview({
      body: {
        spec: {
          user,
          groups,
          resourceAttributes: {
            namespace: env.observerNamespace,
            verb: 'get',
            resource: 'secrets',
            name: 'signing-secrets',
          },
        },
      },
    });
    return { identity, allowed: review.status?.allowed === true };
  };

  it('SubjectAccessReview: only the observer may get Secret signing-secrets', async () => {
    const results = await Promise.all([
      canGetSigningSecret('observer', 'system:serviceaccount:provenance-observer:provenance-observer', [
        'system:serviceaccounts',
        'system:serviceaccounts:provenance-observer',
        'system:authenticated',
      ]),
      canGetSigningSecret('tenantA', 'tenant-a-dev', ['system:authenticated']),
      canGetSigningSecret('tenantB', 'tenant-b-dev', ['system:authenticated']),
      canGetSigningSecret('tenantABuild', 'system:serviceaccount:tenant-a:pipeline', [
        'system:serviceaccounts',
        'system:serviceaccounts:tenant-a',
        'system:authenticated',
      ]),
    ]);
    expect(results).toEqual([
      { identity: 'observer', allowed: true },
      { identity: 'tenantA', allowed: false },
      { identity: 'tenantB', allowed: false },
      { identity: 'tenantABuild', allowed: false },
    ]);
  });

  it('a tenant reading the Secret with its own token is refused (403)', async () => {
    for (const identity of ['tenantA', 'tenantABuild'] as const) {
      const api = kubeConfigFor(identity).makeApiClient(CoreV1Api);
      await expect(
        api.readNamespacedSecret({ name: 'signing-secrets', namespace: env.observerNamespace }),
      ).rejects.toMatchObject({ code: 403 });
    }
  });
});

describe('no key material in anything the service emits', () => {
  let env: LocalEnv;
  let obs: TestObserver;
  beforeAll(async () => {
    env = loadLocalEnv();
    obs = await startTestObserver(env);
  });
  afterAll(async () => obs?.stop());

  it('after attesting a run: logs, metrics, Events, annotations and API answers hold no private key bytes', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    await putSigningSecret(env, { 'x509.pem': pem });
    const keyId = keyIdOf(createPublicKey(privateKey));
    await waitFor(`the new key ${keyId} to be the active one at /api/v1/keys`, async () => {
      const { keys } = JSON.parse((await obs.api('/api/v1/keys')).text) as {
        keys: { keyId: string; active: boolean }[];
      };
      return keys.some((k) => k.keyId === keyId && k.active) ? true : undefined;
    });

    const image = await pushTestImage(env.registry, `leak/app-${Date.now()}`);
    const name = await completeBuildTaskRun(image, {
      name: `leak-${Date.now()}`,
      extraResults: [
        { name: 'BAD_IMAGE_URL', value: image.ref },
        { name: 'BAD_IMAGE_DIGEST', value: 'sha256:NOT-HEX' },
      ],
    });
    const run = await waitForSigned('TaskRun', 'tenant-a', name);
    const uid = run.metadata.uid;
    const envelope = JSON.parse(
      Buffer.from(
        run.metadata.annotations?.[`chains.tekton.dev/signature-taskrun-${uid}`] ?? '',
        'base64',
      ).toString(),
    ) as { signatures: { keyid: string }[] };
    expect(envelope.signatures[0]?.keyid).toBe(keyId);

    const jwk = privateKey.export({ format: 'jwk' });
    const der = privateKey.export({ format: 'der', type: 'pkcs8' });
    const needles = [
      ...pem.split('\n').filter((line) => line.length === 64),
      der.toString('base64').slice(20, 60),
      der.toString('hex').slice(40, 100),
      jwk.d as string,
      Buffer.from(jwk.d as string, 'base64url').toString('hex'),
    ];
    const events = await runEvents(kubeConfigFor('admin'), 'tenant-a', name);
    const emitted = [
      obs.logs(),
      await (await fetch(`${obs.observer.address}/metrics`)).text(),
      (await obs.api('/api/v1/keys')).text,
      await (await fetch(`${obs.observer.address}/readyz`)).text(),
      JSON.stringify(events),
      JSON.stringify(run.metadata.annotations),
    ].join('\n');
    expect(emitted.length).toBeGreaterThan(1000);
    // the search can find things: the public key and the skipped input are in there
    expect(emitted).toContain('BAD_IMAGE_DIGEST');
    for (const needle of needles)
      expect(emitted.includes(needle), `found key bytes ${needle.slice(0, 8)}…`).toBe(false);
  });

  it('a key with the wrong password: not ready, a message naming the Secret and key, nothing signed', async () => {
    // Tekton Chains' own throwaway test key (cosign format, scrypt N=32768), with a wrong password
    const encrypted = readFileSync(
      join(import.meta.dirname, '../fixtures/keys/chains-testdata-cosign.key'),
      'utf8',
    );
    await putSigningSecret(env, { 'cosign.key': encrypted, 'cosign.password': 'wrong' });
    const ready = await waitFor('readiness to turn false', async () => {
      const res = await fetch(`${obs.observer.address}/readyz`);
      return res.status === 503
        ? ((await res.json()) as { checks: Record<string, { ok: boolean; message?: string }> })
        : undefined;
    });
    expect(ready.checks['signing-key']?.ok).toBe(false);
    expect(ready.checks['signing-key']?.message).toContain(`${env.observerNamespace}/signing-secrets`);
    expect(ready.checks['signing-key']?.message).toContain('cosign.key');
    expect(ready.checks['signing-key']?.message).toMatch(/password/);
    expect(JSON.stringify(ready)).not.toContain(encrypted.split('\n')[1]);

    const image = await pushTestImage(env.registry, `leak/nokey-${Date.now()}`);
    const name = await completeBuildTaskRun(image, { name: `nokey-${Date.now()}` });
    // The observer is alive and has decided about this very run: its reconcile logged that no key
    // is loaded (a dead or stalled observer never writes this line, so the test would time out).
    await waitFor(`the observer to reconcile ${name} and hold it for want of a key`, async () =>
      obs
        .logs()
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { name?: string; msg?: string })
        .some((l) => l.name === name && l.msg?.startsWith('no signing key loaded'))
        ? true
        : undefined,
    );
    expect((await fetch(`${obs.observer.address}/livez`)).ok).toBe(true);
    const run = await getRun(kubeConfigFor('admin'), 'TaskRun', 'tenant-a', name);
    expect(run.metadata.annotations?.['chains.tekton.dev/signed']).toBeUndefined();
    expect(
      Object.keys(run.metadata.annotations ?? {}).filter((k) => k.startsWith('chains.tekton.dev/')),
    ).toEqual([]);
  });
});
