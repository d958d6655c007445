import { generateKeyPairSync } from 'node:crypto';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { digestTag, RegistryClient } from '../../src/oci/index.ts';
import { kubeConfigFor, loadLocalEnv } from '../env/index.ts';
import { startTestObserver, type TestObserver } from '../helpers/observer.ts';
import { layerCount } from '../helpers/registry-layers.ts';
import { type RekorStandIn, startRekorStandIn } from '../helpers/rekor-stand-in.ts';
import { completeBuildTaskRun, patchRunAnnotations, waitForSigned } from '../helpers/tekton.ts';
import { pushTestImage } from '../helpers/test-image.ts';

const TRANSPARENCY = 'chains.tekton.dev/transparency';

// An observer that lost both the run's annotations and its index (a crash between the Rekor upload
// and the annotations, a restore) attests the run again: it finds the entry its key logged for the
// payload in Rekor (the stand-in over HTTP) and reuses it — one Rekor entry, one .att layer, and
// the .att layer's bundle, the envelope and the transparency annotation name that one entry.
describe('Rekor entry reused after the annotations and the index are lost', () => {
  const env = loadLocalEnv();
  const admin = kubeConfigFor('admin');
  let obs: TestObserver | undefined;
  let rekor: RekorStandIn | undefined;
  afterEach(async () => {
    await stopObserver();
    await rekor?.close();
  });
  /** Stops the running observer once (a second stop of the same observer throws). */
  const stopObserver = async () => {
    const running = obs;
    obs = undefined;
    await running?.stop();
  };

  const attLayer = async (repository: string, digest: string) => {
    const client = new RegistryClient({ registry: env.registry, insecure: true });
    const m = await client.getManifest(repository, digestTag(digest, '.att'));
    const layers: { annotations: Record<string, string> }[] = JSON.parse(
      new TextDecoder().decode(m?.bytes),
    ).layers;
    return layers[0]?.annotations ?? {};
  };

  it('re-attested from scratch: one Rekor entry, one .att layer, the same transparency URL', async () => {
    rekor = await startRekorStandIn();
    const namespace = `rekor-${Date.now().toString(36)}`;
    await admin.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const repository = `${namespace}/app`;
    const image = await pushTestImage(env.registry, repository);
    const name = await completeBuildTaskRun(image, { name: 'build-1', namespace });
    const config = {
      'observer.namespaces': namespace,
      'transparency.enabled': 'true',
      'transparency.url': rekor.url,
    };

    obs = await startTestObserver(env, config, undefined, { key: privateKey });
    const first = await waitForSigned('TaskRun', namespace, name);
    await stopObserver();
    const url = first.metadata.annotations?.[TRANSPARENCY];
    expect(url).toBe(`${rekor.url}/api/v1/log/entries?logIndex=0`);
    expect(rekor.created.count).toBe(1);
    const bundleBefore = (await attLayer(repository, image.digest))['dev.sigstore.cosign/bundle'];

    const chains = Object.keys(first.metadata.annotations ?? {}).filter((k) =>
      k.startsWith('chains.tekton.dev/'),
    );
    await patchRunAnnotations(
      admin,
      'TaskRun',
      namespace,
      name,
      Object.fromEntries(chains.map((k) => [k, null])),
    );
    obs = await startTestObserver(env, config, undefined, { key: privateKey }); // a new, empty index
    const again = await waitForSigned('TaskRun', namespace, name);
    await stopObserver();

    const counts = {
      entries: rekor.created.count,
      conflicts: rekor.created.conflicts,
      att: await layerCount(env.registry, repository, image.digest, '.att'),
    };
    console.log(`re-attested without annotations and index: ${JSON.stringify(counts)}`);
    expect(counts).toEqual({ entries: 1, conflicts: 0, att: 1 });
    expect(again.metadata.annotations?.[TRANSPARENCY]).toBe(url);
    expect((await attLayer(repository, image.digest))['dev.sigstore.cosign/bundle']).toBe(bundleBefore);
  });
});
