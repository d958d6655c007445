import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { keyIdOf } from '../../src/signing/index.ts';
import {
  DEPLOY_DIR,
  kubeConfigFor,
  type LocalEnv,
  loadKustomizeBase,
  loadLocalEnv,
  type PrometheusProcess,
  STATE_DIR,
  startPrometheus,
} from '../env/index.ts';
import { chainsAnnotations, chainsPushToRegistry, chainsStatementFor } from '../helpers/chains-stand-in.ts';
import { startTestObserver, type TestObserver } from '../helpers/observer.ts';
import { layerCount } from '../helpers/registry-layers.ts';
import {
  createRun,
  type Kind,
  patchRunAnnotations,
  setRunStatus,
  succeededTaskRunStatus,
  waitFor,
} from '../helpers/tekton.ts';
import { pushTestImage } from '../helpers/test-image.ts';

// A platform team switches a cluster from Tekton Chains to the observer. The Chains stand-in signs
// and stores exactly as Chains does (annotations, `.att`/`.sig` in the registry, Chains' key and
// its in-toto (SLSA v0.2) payloads from Chains' own test data); the observer then starts with
// Chains' public key configured. Without the key the same switch shows what it did before
// adoption existed: every run re-attested and reported as tamper.
const TESTDATA = join(
  import.meta.dirname,
  '../fixtures/tekton-chains/pkg/chains/formats/slsa/testdata/pipeline-v1',
);
const statementOf = (kind: Kind) =>
  JSON.parse(
    readFileSync(
      join(TESTDATA, kind === 'TaskRun' ? 'taskrun1.slsa-v0.2.json' : 'pipelinerun1.slsa-v0.2.json'),
      'utf8',
    ),
  );
const admin = kubeConfigFor('admin');

interface ChainsRun {
  kind: Kind;
  name: string;
  uid: string;
  image: { repository: string; digest: string };
}

describe('switching a cluster over from Tekton Chains', () => {
  let env: LocalEnv;
  let obs: TestObserver | undefined;
  let prom: PrometheusProcess | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'chains-migration-'));
  const chainsKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const chainsPub = join(dir, 'chains-cosign.pub');
  writeFileSync(chainsPub, chainsKey.publicKey.export({ format: 'pem', type: 'spki' }).toString());

  beforeAll(() => {
    env = loadLocalEnv();
  });
  afterEach(async () => {
    await prom?.stop();
    prom = undefined;
    await obs?.stop();
    obs = undefined;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Every Chains-signed run of `namespace` done (TaskRuns, and every fifth a PipelineRun), as Chains left it. */
  async function chainsSignedRuns(namespace: string, count: number): Promise<ChainsRun[]> {
    const runs: ChainsRun[] = [];
    const one = async (i: number) => {
      const kind: Kind = i % 5 === 4 ? 'PipelineRun' : 'TaskRun';
      runs.push(await chainsSignedRun(namespace, `${kind.toLowerCase()}-${i}`, kind, chainsKey.privateKey));
    };
    // a few at a time: the machine is shared
    for (let i = 0; i < count; i += 5)
      await Promise.all([...Array(Math.min(5, count - i)).keys()].map((k) => one(i + k)));
    return runs;
  }

  async function chainsSignedRun(
    namespace: string,
    name: string,
    kind: Kind,
    key: KeyObject,
    /** a tenant's edit of the annotations Chains wrote */
    edit?: (uid: string) => Record<string, string>,
  ): Promise<ChainsRun> {
    const image = await pushTestImage(env.registry, `${namespace}/${name}`, 'v1');
    const repository = `${env.registry}/${namespace}/${name}`;
    const created = await createRun(
      admin,
      kind,
      namespace,
      name,
      kind === 'TaskRun' ? { taskRef: { name: 'buildah' } } : { pipelineRef: { name: 'build' } },
    );
    const results = [
      { name: 'IMAGE_URL', value: image.ref },
      { name: 'IMAGE_DIGEST', value: image.digest },
    ];
    const uid = created.metadata.uid;
    // the times succeededTaskRunStatus / pipelineRunStatus write, as Chains copies them
    const times =
      kind === 'TaskRun'
        ? { startTime: '2026-11-26T10:00:00Z', completionTime: '2026-11-26T10:00:10Z' }
        : { startTime: '2026-11-26T10:00:00Z', completionTime: '2026-11-26T10:00:20Z' };
    const statement = chainsStatementFor(statementOf(kind), { uid, namespace, ...times }, [
      { name: repository, digest: { sha256: image.digest.slice(7) } },
    ]);
    const annotations = chainsAnnotations({ kind, uid }, statement, key);
    const target = { repository, digest: image.digest };
    await chainsPushToRegistry(
      env.registry,
      annotations,
      { att: [target], sig: kind === 'TaskRun' ? [target] : [] },
      key,
    );
    await patchRunAnnotations(admin, kind, namespace, name, { ...annotations, ...edit?.(uid) });
    // done last: an observer running meanwhile sees the run only as Chains (and a tenant) left it
    await setRunStatus(
      admin,
      kind,
      namespace,
      name,
      kind === 'TaskRun' ? succeededTaskRunStatus(results) : pipelineRunStatus(results),
    );
    return { kind, name, uid, image: target };
  }

  const layersOf = async (runs: ChainsRun[]) => {
    let n = 0;
    for (const r of runs) {
      const repository = r.image.repository.slice(env.registry.length + 1);
      n +=
        (await layerCount(env.registry, repository, r.image.digest, '.att')) +
        (await layerCount(env.registry, repository, r.image.digest, '.sig'));
    }
    return n;
  };
  const mismatchEvents = async (namespace: string) =>
    (await admin.makeApiClient(CoreV1Api).listNamespacedEvent({ namespace })).items.filter(
      (e) => e.reason === 'AnnotationMismatch',
    );
  const counter = async (o: TestObserver, name: string) =>
    (await o.metrics.registry.getSingleMetric(name)?.get())?.values.reduce((a, v) => a + v.value, 0) ?? 0;
  const settled = (o: TestObserver, runs: ChainsRun[], what: string) =>
    waitFor(
      what,
      async () => {
        for (const r of runs)
          if ((await o.observer.index.getRunRecord(r.uid))?.status !== 'attested') return undefined;
        return true;
      },
      120_000,
    );
  const originsOf = async (o: TestObserver, namespace: string, runs: ChainsRun[]) => {
    const origins: Record<string, number> = {};
    for (const r of runs)
      for (const a of await o.observer.index.findByRun({ namespace, kind: r.kind, name: r.name }))
        origins[`${a.origin}/${a.keyId === keyIdOf(chainsKey.publicKey) ? 'chains-key' : 'other-key'}`] =
          (origins[`${a.origin}/${a.keyId === keyIdOf(chainsKey.publicKey) ? 'chains-key' : 'other-key'}`] ??
            0) + 1;
    return origins;
  };

  it("with Chains' key: 50 runs adopted, 0 new layers, 0 mismatch Events, 0 alerts; new runs are ours; an edited run is caught", async () => {
    const namespace = await newNamespace('chains-adopt');
    const runs = await chainsSignedRuns(namespace, 50);
    expect(runs.filter((r) => r.kind === 'PipelineRun')).toHaveLength(10);
    const layersBefore = await layersOf(runs);
    expect(layersBefore).toBe(40 * 2 + 10); // .att on every image, .sig on the TaskRuns' images

    const started = Date.now();
    obs = await startTestObserver(env, {
      'observer.namespaces': namespace,
      'adoption.chains-public-key-files': chainsPub,
    });
    const o = obs;
    prom = await prometheusFor(o, join(STATE_DIR, '..', 'prometheus', `chains-${Date.now()}`));
    await settled(o, runs, 'every Chains-signed run recorded in the index');
    const adoptSeconds = (Date.now() - started) / 1000;
    const adopted = {
      newLayers: (await layersOf(runs)) - layersBefore,
      mismatchEvents: (await mismatchEvents(namespace)).length,
      tamperCounter: await counter(o, 'provenance_observer_tamper_mismatches_total'),
      adoptedCounter: await counter(o, 'provenance_observer_chains_adopted_total'),
      origins: await originsOf(o, namespace, runs),
    };
    const alertsSeen = await alertsAfterScrapes(prom, 50);
    console.log(
      `Chains migration, key configured: ${JSON.stringify({ ...adopted, alerts: alertsSeen, adoptSeconds })}`,
    );
    expect(adopted).toEqual({
      newLayers: 0,
      mismatchEvents: 0,
      tamperCounter: 0,
      adoptedCounter: 50,
      origins: { 'chains/chains-key': 50 },
    });
    expect(alertsSeen).toEqual([]);

    // a run that completes after the switch is attested by us, with our key, stored as usual
    const ours = await unsignedTaskRun(namespace, 'after-switch');
    await settled(o, [ours], 'the new run attested');
    expect(await originsOf(o, namespace, [ours])).toEqual({ 'observer/other-key': 1 });
    expect(await layersOf([ours])).toBe(2);

    // a run whose Chains annotations a tenant edited (its subject swapped) is still caught
    const forged = (uid: string) =>
      chainsStatementFor(
        statementOf('TaskRun'),
        { uid, namespace, startTime: '2026-11-26T10:00:00Z', completionTime: '2026-11-26T10:00:10Z' },
        [{ name: `${env.registry}/${namespace}/other`, digest: { sha256: 'e'.repeat(64) } }],
      );
    const edited = await chainsSignedRun(namespace, 'edited', 'TaskRun', chainsKey.privateKey, (uid) => ({
      [`chains.tekton.dev/payload-taskrun-${uid}`]: Buffer.from(JSON.stringify(forged(uid))).toString(
        'base64',
      ),
    }));
    await settled(o, [edited], 'the edited run attested');
    expect((await mismatchEvents(namespace)).map((e) => e.involvedObject.name)).toEqual(['edited']);
    expect(await originsOf(o, namespace, [edited])).toEqual({ 'observer/other-key': 1 });
    const firing = await waitFor(
      'the TamperMismatch alert',
      async () => {
        const names = (await alerts(prom!)).map((a) => a.labels.alertname);
        return names.includes('ProvenanceObserverTamperMismatch') ? names : undefined;
      },
      60_000,
    );
    console.log(`Chains migration, edited run: alerts ${JSON.stringify(firing)}`);
  }, 300_000);

  it("without Chains' key: as before adoption, every Chains-signed run is re-attested and reported", async () => {
    const namespace = await newNamespace('chains-nokey');
    const runs = await chainsSignedRuns(namespace, 5);
    const layersBefore = await layersOf(runs);
    obs = await startTestObserver(env, { 'observer.namespaces': namespace });
    const o = obs;
    await settled(o, runs, 'every run attested');
    const result = {
      newLayers: (await layersOf(runs)) - layersBefore,
      mismatchEvents: (await mismatchEvents(namespace)).length,
      tamperCounter: await counter(o, 'provenance_observer_tamper_mismatches_total'),
      adoptedCounter: await counter(o, 'provenance_observer_chains_adopted_total'),
      origins: await originsOf(o, namespace, runs),
    };
    console.log(`Chains migration, no key: ${JSON.stringify(result)}`);
    // our `.att` on every image, our `.sig` on the TaskRuns' images
    expect(result).toEqual({
      newLayers: 4 * 2 + 1,
      mismatchEvents: 5,
      tamperCounter: 5,
      adoptedCounter: 0,
      origins: { 'observer/other-key': 5 },
    });
  }, 180_000);

  it('side by side until the cut-over: a run Chains signs late is left to Chains, then adopted', async () => {
    const namespace = await newNamespace('chains-side');
    // Chains' key from a Secret this time (deploy/'s Role lets the observer get chains-public-key)
    await putSecret(env.observerNamespace, 'chains-public-key', {
      'cosign.pub': readFileSync(chainsPub, 'utf8'),
    });
    obs = await startTestObserver(env, {
      'observer.namespaces': namespace,
      'adoption.chains-public-key-secret': 'chains-public-key',
      'adoption.cut-over': new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z'),
    });
    const o = obs;
    // Chains is slow: the run completes (now, before the cut-over) and stays unsigned for a while
    const image = await pushTestImage(env.registry, `${namespace}/late`, 'v1');
    const created = await createRun(admin, 'TaskRun', namespace, 'late', { taskRef: { name: 'buildah' } });
    const uid = created.metadata.uid;
    const completionTime = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const status = succeededTaskRunStatus([
      { name: 'IMAGE_URL', value: image.ref },
      { name: 'IMAGE_DIGEST', value: image.digest },
    ]);
    await setRunStatus(admin, 'TaskRun', namespace, 'late', { ...status, completionTime });
    const late: ChainsRun = {
      kind: 'TaskRun',
      name: 'late',
      uid,
      image: { repository: `${env.registry}/${namespace}/late`, digest: image.digest },
    };
    await new Promise((r) => setTimeout(r, 3_000)); // the observer has seen it finished meanwhile
    expect(await o.observer.index.getRunRecord(uid)).toBeUndefined();
    expect(await layersOf([late])).toBe(0);
    // now Chains signs and stores it
    const statement = chainsStatementFor(
      statementOf('TaskRun'),
      { uid, namespace, startTime: status.startTime, completionTime },
      [{ name: late.image.repository, digest: { sha256: image.digest.slice(7) } }],
    );
    const annotations = chainsAnnotations({ kind: 'TaskRun', uid }, statement, chainsKey.privateKey);
    await chainsPushToRegistry(
      env.registry,
      annotations,
      { att: [late.image], sig: [late.image] },
      chainsKey.privateKey,
    );
    await patchRunAnnotations(admin, 'TaskRun', namespace, 'late', annotations);
    await settled(o, [late], 'the late run adopted');
    expect(await originsOf(o, namespace, [late])).toEqual({ 'chains/chains-key': 1 });
    expect(await layersOf([late])).toBe(2); // Chains' .att and .sig only
    expect((await mismatchEvents(namespace)).length).toBe(0);
  }, 120_000);

  async function unsignedTaskRun(namespace: string, name: string): Promise<ChainsRun> {
    const image = await pushTestImage(env.registry, `${namespace}/${name}`, 'v1');
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
    return {
      kind: 'TaskRun',
      name,
      uid: created.metadata.uid,
      image: { repository: `${env.registry}/${namespace}/${name}`, digest: image.digest },
    };
  }
});

/** Creates or replaces a Secret, as the cluster admin. */
async function putSecret(namespace: string, name: string, stringData: Record<string, string>): Promise<void> {
  const api = admin.makeApiClient(CoreV1Api);
  await api.deleteNamespacedSecret({ name, namespace }).catch(() => undefined);
  await api.createNamespacedSecret({ namespace, body: { metadata: { name, namespace }, stringData } });
}

async function newNamespace(prefix: string): Promise<string> {
  const name = `${prefix}-${Date.now().toString(36)}`;
  await admin.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name } } });
  return name;
}

function pipelineRunStatus(results: { name: string; value: string }[]) {
  return {
    conditions: [{ type: 'Succeeded', status: 'True', reason: 'Succeeded' }],
    startTime: '2026-11-26T10:00:00Z',
    completionTime: '2026-11-26T10:00:20Z',
    pipelineSpec: { tasks: [{ name: 'build', taskRef: { name: 'buildah' } }] },
    childReferences: [],
    results,
  };
}

/** Debian's Prometheus scraping the observer every second and evaluating deploy/'s real alert rules. */
async function prometheusFor(o: TestObserver, dir: string): Promise<PrometheusProcess> {
  const objects = loadKustomizeBase(join(DEPLOY_DIR, 'overlays/monitoring'));
  const rule = objects.find((x) => x.kind === 'PrometheusRule') as unknown as { spec: { groups: unknown[] } };
  return startPrometheus({
    dir,
    files: { 'rules.yaml': stringify({ groups: rule.spec.groups }) },
    config: {
      global: { evaluation_interval: '1s' },
      rule_files: ['rules.yaml'],
      scrape_configs: [
        {
          job_name: 'serviceMonitor/provenance-observer/provenance-observer/0',
          scrape_interval: '1s',
          static_configs: [
            {
              targets: [new URL(o.observer.address).host],
              labels: { namespace: 'provenance-observer', pod: 'test' },
            },
          ],
        },
      ],
    },
  });
}

interface Alert {
  labels: Record<string, string>;
  state: string;
}

async function alerts(prom: PrometheusProcess): Promise<Alert[]> {
  const body = (await (await fetch(`${prom.url}/api/v1/alerts`)).json()) as { data: { alerts: Alert[] } };
  return body.data.alerts;
}

/**
 * The alerts (pending or firing) once Prometheus has scraped the adopted runs' counter and
 * evaluated the rules a few times since: none means no rule saw anything to alert on.
 */
async function alertsAfterScrapes(prom: PrometheusProcess, adopted: number): Promise<string[]> {
  const query = async (promql: string) => {
    const res = await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent(promql)}`);
    return ((await res.json()) as { data: { result: { value: [number, string] }[] } }).data.result;
  };
  await waitFor('Prometheus scraped the adopted runs', async () => {
    const [sample] = await query('sum(provenance_observer_chains_adopted_total)');
    return Number(sample?.value[1]) === adopted ? true : undefined;
  });
  // several rule evaluations (every second) on samples taken after the adoption
  await waitFor('rules evaluated on them', async () => {
    const [sample] = await query('count_over_time(sum(provenance_observer_chains_adopted_total)[10s:1s])');
    return Number(sample?.value[1]) >= 5 ? true : undefined;
  });
  return (await alerts(prom)).map((a) => `${a.labels.alertname}:${a.state}`);
}
