import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { FAULT_ENV } from '../../src/config/index.ts';
import { SqliteIndex } from '../../src/index/index.ts';
import { kubeConfigFor, loadLocalEnv } from '../env/index.ts';
import { putSigningSecret } from '../helpers/observer.ts';
import { ObserverProcess } from '../helpers/observer-process.ts';
import { layerCount } from '../helpers/registry-layers.ts';
import { completeBuildTaskRun, getRun, runEvents, waitFor, waitForSigned } from '../helpers/tekton.ts';
import { pushTestImage } from '../helpers/test-image.ts';

// The observer as its own process, SIGKILLed (by the test-only fault hook) after a run's
// attestation was pushed to the registry and before the index recorded it, then restarted on the
// same index: the run ends signed with exactly one .att and one .sig layer, and no tamper alarm.
describe('SIGKILL between the OCI push and the index write', () => {
  const env = loadLocalEnv();
  const admin = kubeConfigFor('admin');
  let observer: ObserverProcess | undefined;
  afterEach(async () => {
    await observer?.stop();
    observer = undefined;
  });

  it('restarted on the same index: zero duplicate layers, signed=true, zero AnnotationMismatch', async () => {
    const namespace = `crash-${Date.now().toString(36)}`;
    await admin.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await putSigningSecret(env, {
      'x509.pem': privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    });
    const repository = `${namespace}/app`;
    const image = await pushTestImage(env.registry, repository);
    const name = await completeBuildTaskRun(image, { name: 'build-1', namespace });
    const config = {
      'observer.namespaces': namespace,
      'storage.oci.insecure-registries': env.registry,
      'storage.oci.allowed-private-registries': '127.0.0.1',
      'signing.secret.poll-seconds': '1',
      // the killed process's claim lapses after this; the restarted one (a new owner) waits for it
      'observer.claim-lease-seconds': '2',
      // the Attested Event (off by default) shows the attempt was reported in full
      'observer.success-events': 'true',
    };
    const start = (extraEnv: Record<string, string> = {}, dir?: string) =>
      ObserverProcess.start({ kubeconfig: env.kubeconfigs.observer, config, env: extraEnv, dir });

    observer = await start({ [FAULT_ENV]: 'kill-after-push' });
    expect(await observer.exited()).toBe('SIGKILL');
    const { dir } = observer;
    // killed in the window: both layers pushed, nothing recorded, not marked
    expect(await layerCount(env.registry, repository, image.digest, '.att')).toBe(1);
    expect(await layerCount(env.registry, repository, image.digest, '.sig')).toBe(1);
    const uid = (await getRun(admin, 'TaskRun', namespace, name)).metadata.uid;
    const before = new SqliteIndex({ path: join(dir, 'index.db') });
    try {
      expect(await before.findByRun({ namespace, kind: 'TaskRun', name })).toEqual([]);
      expect((await before.getRunRecord(uid))?.status).toBe('pending');
    } finally {
      await before.close();
    }
    expect(
      (await getRun(admin, 'TaskRun', namespace, name)).metadata.annotations?.['chains.tekton.dev/signed'],
    ).toBeUndefined();

    observer = await start({}, dir);
    await observer.ready();
    await waitForSigned('TaskRun', namespace, name);
    await waitFor('the Attested Event (the attempt reported in full)', async () =>
      (await runEvents(admin, namespace, name)).some((e) => e.reason === 'Attested') ? true : undefined,
    );
    await observer.stop();

    const counts = {
      att: await layerCount(env.registry, repository, image.digest, '.att'),
      sig: await layerCount(env.registry, repository, image.digest, '.sig'),
      mismatches: (await runEvents(admin, namespace, name)).filter((e) => e.reason === 'AnnotationMismatch')
        .length,
    };
    console.log(`after SIGKILL + restart: ${JSON.stringify(counts)}`);
    expect(counts).toEqual({ att: 1, sig: 1, mismatches: 0 });
    const after = new SqliteIndex({ path: join(dir, 'index.db') });
    try {
      expect((await after.getRunRecord(uid))?.status).toBe('attested');
      expect(await after.findByRun({ namespace, kind: 'TaskRun', name })).toHaveLength(1);
    } finally {
      await after.close();
    }
  });
});
