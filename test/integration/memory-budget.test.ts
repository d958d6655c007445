import { generateKeyPairSync } from 'node:crypto';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ANNOTATION_SIGNATURE,
  cosignManifest,
  DSSE_LAYER,
  digestTag,
  OCI_MANIFEST,
  RegistryClient,
  sha256Digest,
} from '../../src/oci/index.ts';
import { kubeConfigFor, type LocalEnv, loadLocalEnv } from '../env/index.ts';
import { asInContainer, deploySettings } from '../helpers/deploy-settings.ts';
import { forEachLimited, ImageFactory } from '../helpers/image-factory.ts';
import { putSigningSecret } from '../helpers/observer.ts';
import { ObserverProcess } from '../helpers/observer-process.ts';
import { completeBuildTaskRun, deleteAllRuns, getRun, runEvents, waitFor } from '../helpers/tekton.ts';

/**
 * What a tenant puts in place beforehand cannot push the observer past deploy/'s memory limit
 * (issue 26): the observer runs as its own process with deploy/'s NODE_OPTIONS (as node applies them
 * under the container's limit) and MALLOC_ARENA_MAX; its RSS is sampled every 100 ms.
 */
const SIGNED = 'chains.tekton.dev/signed';
const MiB = 1024 * 1024;
const settings = deploySettings();
const LIMIT_MIB = (settings.memoryLimitBytes ?? 256 * MiB) / MiB;

function start(env: LocalEnv, namespaces: string[], dir?: string): Promise<ObserverProcess> {
  return ObserverProcess.start({
    kubeconfig: env.kubeconfigs.observer,
    nodeOptions: asInContainer(settings),
    env: { ...settings.env, POD_NAMESPACE: env.observerNamespace },
    ...(dir ? { dir } : {}),
    config: {
      'observer.namespaces': namespaces.join(','),
      'storage.oci.insecure-registries': env.registry,
      'storage.oci.allowed-private-registries': '127.0.0.1',
      'signing.secret.poll-seconds': '1',
    },
  });
}

/** Namespaces this file made: their runs are deleted afterwards (the local environment has no namespace controller to empty a deleted namespace), so later observers do not list them. */
const made: string[] = [];

async function namespace(prefix: string): Promise<string> {
  const name = `${prefix}-${Date.now().toString(36)}`;
  made.push(name);
  await kubeConfigFor('admin')
    .makeApiClient(CoreV1Api)
    .createNamespace({ body: { metadata: { name } } });
  return name;
}

const signed = async (ns: string, name: string) =>
  (await getRun(kubeConfigFor('admin'), 'TaskRun', ns, name)).metadata.annotations?.[SIGNED];

/** Fails (with its last words) once the observer process has exited: an OOM is not a slow run. */
function alive(observer: ObserverProcess): void {
  const { exitCode, signalCode } = observer.child;
  if (exitCode !== null || signalCode !== null)
    throw new Error(`observer exited (${exitCode ?? signalCode}): ${observer.stderr().slice(-600)}`);
}

/** The value of a counter with these labels in /metrics text (0 when absent). */
function counter(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('a planted .att layer cannot crash the observer (issue 26, item 1)', () => {
  const env = loadLocalEnv();
  let observer: ObserverProcess | undefined;
  afterEach(async () => {
    await observer?.stop();
    observer = undefined;
    for (const ns of made.splice(0)) await deleteAllRuns(kubeConfigFor('admin'), ns);
  });

  it('16 MiB DSSE-typed `[[],[],…]` under eight images of one run: stays up and under the limit, the others attest, reported once', async () => {
    const [a, b] = [await namespace('budget-a'), await namespace('budget-b')];
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await putSigningSecret(env, {
      'x509.pem': privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    });
    // tenant A's eight images, each with the planted layer (one blob) in its .att tag
    const repository = `${a}/app`;
    const images = new ImageFactory({ registry: env.registry, repository });
    const eight = await Promise.all([...Array(8).keys()].map((i) => images.push(`v${i}`)));
    const client = new RegistryClient({ registry: env.registry, insecure: true });
    const planted = new TextEncoder().encode(`[${'[],'.repeat(Math.floor((16 * MiB - 1024) / 3))}[]]`);
    expect(planted.length).toBeLessThan(16 * MiB);
    await client.uploadBlob(repository, planted);
    const layer = {
      mediaType: DSSE_LAYER,
      size: planted.length,
      digest: sha256Digest(planted),
      annotations: { [ANNOTATION_SIGNATURE]: '' },
    };
    const att = cosignManifest([layer]);
    await client.uploadBlob(repository, att.config);
    for (const image of eight)
      await client.putManifest(repository, digestTag(image.digest, '.att'), att.bytes, OCI_MANIFEST);

    observer = await start(env, [a, b]);
    await observer.ready();
    const idle = observer.rssMiB() ?? 0;
    const refs = eight.map((i) => `${i.ref.replace(/:v\d+$/, '')}@${i.digest}`).join(',');
    await completeBuildTaskRun(eight[0], {
      name: 'many-images',
      namespace: a,
      extraResults: [{ name: 'IMAGES', value: refs }],
    });
    const others = await Promise.all(
      [1, 2, 3].map(async (i) => {
        const image = await new ImageFactory({ registry: env.registry, repository: `${b}/app` }).push(
          `b${i}`,
        );
        const completed = Date.now();
        await completeBuildTaskRun(image, { name: `other-${i}`, namespace: b });
        return { name: `other-${i}`, completed };
      }),
    );
    for (const o of others) {
      await waitFor(`${b}/${o.name} signed`, async () => {
        alive(observer as ObserverProcess);
        return (await signed(b, o.name)) === 'true' ? 1 : undefined;
      }).catch((err: Error) => {
        const p = observer as ObserverProcess;
        throw new Error(
          `${err.message}; peak RSS ${p.peakRssMiB().toFixed(0)} MiB; log: ${p.stderr().slice(-600)}`,
        );
      });
      expect(Date.now() - o.completed).toBeLessThan(60_000);
    }
    // tenant A's run attests too: our layer is appended beside the planted one, which is left alone
    await waitFor(`${a}/many-images signed or failed`, async () => {
      alive(observer as ObserverProcess);
      const state = await signed(a, 'many-images');
      return state === 'true' || state === 'failed' ? state : undefined;
    });
    if ((await signed(a, 'many-images')) !== 'true') {
      const events = await runEvents(kubeConfigFor('admin'), a, 'many-images');
      throw new Error(
        `${a}/many-images not signed: ${events.map((e) => `${e.reason}: ${e.message}`).join(' | ')}`,
      );
    }
    expect(observer.child.exitCode).toBeNull();
    const metrics = await observer.metrics();
    // one planted blob under eight tags: reported once
    expect(counter(metrics, 'provenance_observer_foreign_layers_total', 'reason="unannotated"')).toBe(1);
    const peak = observer.peakRssMiB();
    console.log(
      `planted layers: idle ${idle.toFixed(0)} MiB, peak ${peak.toFixed(0)} MiB (limit ${LIMIT_MIB})`,
    );
    expect(peak).toBeLessThan(LIMIT_MIB);
  }, 300_000);
});

describe('big runs cannot crash the list (issue 26, item 2)', () => {
  const env = loadLocalEnv();
  const RUNS = 500;
  const ANNOTATION_BYTES = 250 * 1024;
  let ns: string;
  let observer: ObserverProcess | undefined;

  beforeAll(async () => {
    ns = await namespace('budget-list');
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await putSigningSecret(env, {
      'x509.pem': privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    });
    const api = kubeConfigFor('admin').makeApiClient(CustomObjectsApi);
    // ~250 KiB of annotations each (the apiserver's cap on a run's annotations is 256 KiB)
    const filler = 'x'.repeat(ANNOTATION_BYTES / 5);
    const annotations = Object.fromEntries(
      [...Array(5).keys()].map((i) => [`tenant.example/blob-${i}`, filler]),
    );
    await forEachLimited(RUNS, 8, async (i) => {
      await api.createNamespacedCustomObject({
        group: 'tekton.dev',
        version: 'v1',
        namespace: ns,
        plural: 'taskruns',
        body: {
          apiVersion: 'tekton.dev/v1',
          kind: 'TaskRun',
          metadata: { name: `big-${i}`, namespace: ns, annotations },
          spec: { taskRef: { name: 'buildah' } },
        },
      });
    });
  }, 600_000);

  afterAll(async () => {
    await observer?.stop();
    for (const name of made.splice(0)) {
      await deleteAllRuns(kubeConfigFor('admin'), name);
      await kubeConfigFor('admin')
        .makeApiClient(CoreV1Api)
        .deleteNamespace({ name })
        .catch(() => undefined);
    }
  });

  it('500 runs of ~250 KiB listed at start-up and again after a restart: ready both times, under the limit', async () => {
    observer = await start(env, [ns]);
    await observer.ready(240_000);
    const first = observer.peakRssMiB();
    const { dir } = observer;
    await observer.stop();
    // the list again, as after every start and every re-list
    observer = await start(env, [ns], dir);
    await observer.ready(240_000);
    const second = observer.peakRssMiB();
    expect(observer.child.exitCode).toBeNull();
    console.log(
      `big runs: peak ${first.toFixed(0)} MiB at first list, ${second.toFixed(0)} MiB at the next (limit ${LIMIT_MIB})`,
    );
    expect(Math.max(first, second)).toBeLessThan(LIMIT_MIB);
  }, 600_000);
});
