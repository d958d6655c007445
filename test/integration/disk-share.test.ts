import { generateKeyPairSync } from 'node:crypto';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { kubeConfigFor, type LocalEnv, loadLocalEnv } from '../env/index.ts';
import { asInContainer, deploySettings } from '../helpers/deploy-settings.ts';
import { forEachLimited, ImageFactory } from '../helpers/image-factory.ts';
import { putSigningSecret } from '../helpers/observer.ts';
import { ObserverProcess } from '../helpers/observer-process.ts';
import { completeBuildTaskRun, deleteAllRuns, getRun, runEvents, waitFor } from '../helpers/tekton.ts';

/**
 * A namespace filling the index's disk (issue 26, item 6). The observer runs as its own process with
 * deploy/'s NODE_OPTIONS; its index is a SQLite file capped at VOLUME bytes (`index.volume-bytes`
 * sets SQLite's max_page_count: a write past it really fails, SQLITE_FULL), with a 25% free-space
 * floor. Tenant A floods runs carrying ~200 KiB of annotations each (captured copies, envelopes);
 * tenant B's runs must keep being signed as fast as before, and the disk must never fill.
 */
const SIGNED = 'chains.tekton.dev/signed';
const MiB = 1024 * 1024;
const VOLUME = 6 * MiB;
const FLOOD = 30;
const settings = deploySettings();
const LIMIT_MIB = (settings.memoryLimitBytes ?? 256 * MiB) / MiB;

function start(env: LocalEnv, namespaces: string[]): Promise<ObserverProcess> {
  return ObserverProcess.start({
    kubeconfig: env.kubeconfigs.observer,
    nodeOptions: asInContainer(settings),
    env: { ...settings.env, POD_NAMESPACE: env.observerNamespace },
    config: {
      'observer.namespaces': namespaces.join(','),
      'storage.oci.insecure-registries': env.registry,
      'storage.oci.allowed-private-registries': '127.0.0.1',
      'signing.secret.poll-seconds': '1',
      'index.volume-bytes': String(VOLUME),
      'index.free-space-floor-percent': '25',
    },
  });
}

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

function alive(observer: ObserverProcess): void {
  const { exitCode, signalCode } = observer.child;
  if (exitCode !== null || signalCode !== null)
    throw new Error(`observer exited (${exitCode ?? signalCode}): ${observer.stderr().slice(-600)}`);
}

/** The sum of a metric's series (any labels) in /metrics text. */
function total(text: string, name: string): number {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
}

/** Completes B's run `name` and returns ms from completion to signed=true. */
async function signedAfter(observer: ObserverProcess, images: ImageFactory, ns: string, name: string) {
  const image = await images.push(name);
  const completed = Date.now();
  await completeBuildTaskRun(image, { name, namespace: ns });
  await waitFor(
    `${ns}/${name} signed`,
    async () => {
      alive(observer);
      return (await signed(ns, name)) === 'true' ? 1 : undefined;
    },
    45_000,
  ).catch(async (err: Error) => {
    const events = await runEvents(kubeConfigFor('admin'), ns, name);
    throw new Error(
      `${err.message}; events: ${events.map((e) => `${e.reason}: ${e.message}`).join(' | ')}; log: ${observer.stderr().slice(-800)}`,
    );
  });
  return Date.now() - completed;
}

/**
 * Waits (never failing) until A's flood has done what it can: its runs are attested or deferred,
 * or the index is full; at most 90 s. Then B's runs show what the flood left them.
 */
async function floodSettled(observer: ObserverProcess, ns: string): Promise<void> {
  const until = Date.now() + 90_000;
  let last = -1;
  let still = 0;
  while (Date.now() < until && still < 3) {
    alive(observer);
    const metrics = await observer.metrics();
    const states = await Promise.all([...Array(FLOOD).keys()].map((i) => signed(ns, `flood-${i}`)));
    const done = states.filter((s) => s === 'true').length;
    const deferred = total(metrics, 'provenance_observer_disk_share_deferred_total');
    const full = total(metrics, 'provenance_observer_index_disk_full_total');
    if (done === FLOOD || (deferred > 0 && done === last) || (full > 0 && done === last)) still++;
    else still = 0;
    last = done;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

describe('a namespace filling the disk (issue 26, item 6)', () => {
  const env = loadLocalEnv();
  let observer: ObserverProcess | undefined;
  afterEach(async () => {
    await observer?.stop();
    observer = undefined;
    for (const ns of made.splice(0)) await deleteAllRuns(kubeConfigFor('admin'), ns);
  });

  it('tenant A floods the index past its share: A is deferred (Events, metric), B keeps being signed, the disk never fills', async () => {
    const [a, b] = [await namespace('disk-a'), await namespace('disk-b')];
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await putSigningSecret(env, {
      'x509.pem': privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    });
    observer = await start(env, [a, b]);
    await observer.ready();
    const imagesA = new ImageFactory({ registry: env.registry, repository: `${a}/app` });
    const imagesB = new ImageFactory({ registry: env.registry, repository: `${b}/app` });

    // B's normal latency, before A floods
    const before: number[] = [];
    for (const i of [1, 2, 3]) before.push(await signedAfter(observer, imagesB, b, `before-${i}`));

    // A: FLOOD runs of ~200 KiB of annotations each, together far more than the volume
    const filler = 'x'.repeat(40 * 1024);
    const annotations = Object.fromEntries(
      [...Array(5).keys()].map((i) => [`tenant.example/blob-${i}`, filler]),
    );
    const imageA = await imagesA.push('flood');
    await forEachLimited(FLOOD, 4, async (i) => {
      await completeBuildTaskRun(imageA, { name: `flood-${i}`, namespace: a, annotations });
    });
    await floodSettled(observer, a);

    // B, with A at the floor and still pressing
    const during: number[] = [];
    for (const i of [1, 2, 3, 4, 5]) during.push(await signedAfter(observer, imagesB, b, `during-${i}`));
    console.log(
      `disk share: B completion→signed before A's flood ${before.join('/')} ms, during ${during.join('/')} ms`,
    );
    expect(Math.max(...during)).toBeLessThan(Math.max(15_000, 3 * Math.max(...before)));

    // nothing of A is marked attested that was not, nor failed: deferred runs carry no mark
    const states = await Promise.all([...Array(FLOOD).keys()].map((i) => signed(a, `flood-${i}`)));
    expect(states.filter((s) => s !== 'true' && s !== undefined)).toEqual([]);
    const deferred = [...Array(FLOOD).keys()].filter((i) => states[i] === undefined);
    expect(deferred.length).toBeGreaterThan(0);
    const events = await runEvents(kubeConfigFor('admin'), a, `flood-${deferred[0]}`);
    const reported = events.find((e) => e.reason === 'AttestationDeferred' || e.reason === 'CaptureDeferred');
    expect(reported?.message).toMatch(
      new RegExp(
        `^namespace_disk_share: (attestation|capture) of TaskRun ${a}/flood-${deferred[0]} deferred`,
      ),
    );

    const metrics = await observer.metrics();
    // the index never hit its size: no write failed for a full disk
    expect(total(metrics, 'provenance_observer_index_disk_full_total')).toBe(0);
    expect(total(metrics, 'provenance_observer_index_volume_floor_bytes')).toBe(VOLUME / 4);
    expect(observer.peakRssMiB()).toBeLessThan(LIMIT_MIB);
    console.log(
      `disk share: A ${FLOOD - deferred.length}/${FLOOD} attested, ${deferred.length} deferred; peak RSS ${observer.peakRssMiB().toFixed(0)} MiB`,
    );
  }, 400_000);
});
