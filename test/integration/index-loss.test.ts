import { generateKeyPairSync } from 'node:crypto';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { digestTag, RegistryClient } from '../../src/oci/index.ts';
import { kubeConfigFor, type LocalEnv, loadLocalEnv } from '../env/index.ts';
import { startTestObserver, type TestObserver } from '../helpers/observer.ts';
import { createRun, runEvents, setRunStatus, succeededTaskRunStatus, waitFor } from '../helpers/tekton.ts';
import { pushTestImage } from '../helpers/test-image.ts';

// An observer restarted on an empty index (emptyDir, a new PVC, a restore) finds every run it had
// attested: it adopts each run's own envelope (verified with its published key, equal to the
// statement it builds now) instead of signing again — no new layer in the registry, no false
// AnnotationMismatch alarm.
describe('restart on an empty index', () => {
  let env: LocalEnv;
  let obs: TestObserver | undefined;
  const admin = kubeConfigFor('admin');
  beforeAll(() => {
    env = loadLocalEnv();
  });
  afterEach(async () => {
    await obs?.stop();
    obs = undefined;
  });

  const layerCount = async (repository: string, digest: string, suffix: '.att' | '.sig') => {
    const client = new RegistryClient({ registry: env.registry, insecure: true });
    const m = await client.getManifest(repository, digestTag(digest, suffix));
    return m ? (JSON.parse(new TextDecoder().decode(m.bytes)).layers as unknown[]).length : 0;
  };

  it('adopts the runs it had attested: zero new layers, zero tamper Events, every run attested in the new index', async () => {
    const namespace = `index-loss-${Date.now().toString(36)}`;
    await admin.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const config = { 'observer.namespaces': namespace };
    const runs: { name: string; uid: string; repository: string; digest: string }[] = [];
    for (let i = 0; i < 3; i++) {
      const repository = `${namespace}/app-${i}`;
      const image = await pushTestImage(env.registry, repository);
      const name = `build-${i}`;
      const created = await createRun(admin, 'TaskRun', namespace, name, { taskRef: { name: 'buildah' } });
      await setRunStatus(
        admin,
        'TaskRun',
        namespace,
        name,
        succeededTaskRunStatus([
          { name: 'IMAGE_URL', value: image.ref },
          { name: 'IMAGE_DIGEST', value: image.digest },
        ]),
      );
      runs.push({ name, uid: created.metadata.uid, repository, digest: image.digest });
    }

    obs = await startTestObserver(env, config, undefined, { key: privateKey });
    const first = obs;
    for (const r of runs)
      await waitFor(`${r.name} attested by the first observer`, async () =>
        (await first.observer.index.getRunRecord(r.uid))?.status === 'attested' ? true : undefined,
      );
    const before = await Promise.all(
      runs.map(async (r) => [
        await layerCount(r.repository, r.digest, '.att'),
        await layerCount(r.repository, r.digest, '.sig'),
      ]),
    );
    expect(before).toEqual(runs.map(() => [1, 1]));
    await first.stop();

    obs = await startTestObserver(env, config, undefined, { key: privateKey }); // a new, empty index
    const second = obs;
    for (const r of runs)
      await waitFor(`${r.name} attested in the new index`, async () =>
        (await second.observer.index.getRunRecord(r.uid))?.status === 'attested' ? true : undefined,
      );
    const after = await Promise.all(
      runs.map(async (r) => [
        await layerCount(r.repository, r.digest, '.att'),
        await layerCount(r.repository, r.digest, '.sig'),
      ]),
    );
    let mismatches = 0;
    for (const r of runs)
      mismatches += (await runEvents(admin, namespace, r.name)).filter(
        (e) => e.reason === 'AnnotationMismatch',
      ).length;
    const adopted = second.logs().split('adopted the envelope the run carries').length - 1;
    const newLayers = after.flat().reduce((a, n) => a + n, 0) - before.flat().reduce((a, n) => a + n, 0);
    console.log(`restart on an empty SQLite index: ${JSON.stringify({ newLayers, mismatches, adopted })}`);
    expect(after).toEqual(before);
    expect({ newLayers, mismatches, adopted }).toEqual({ newLayers: 0, mismatches: 0, adopted: runs.length });
  });
});
