import { execFile, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteIndex } from '../../src/index/index.ts';
import { keyIdOf } from '../../src/signing/index.ts';
import { kubeConfigFor, type LocalEnv, loadLocalEnv } from '../env/index.ts';
import { recommendedArtifactSettings } from '../helpers/deploy-settings.ts';
import { putSigningSecret, startTestObserver } from '../helpers/observer.ts';
import { opensslVerifiesEnvelope } from '../helpers/openssl-dsse.ts';
import { layerCount } from '../helpers/registry-layers.ts';
import {
  createRun,
  getRun,
  type Kind,
  setRunStatus,
  succeededTaskRunStatus,
  waitFor,
} from '../helpers/tekton.ts';
import { pushTestImage } from '../helpers/test-image.ts';

const BIN = resolve(import.meta.dirname, '../../bin/provenance-observer.js');
const exec = promisify(execFile);
const admin = kubeConfigFor('admin');

interface Run {
  kind: Kind;
  name: string;
  uid: string;
  repository: string;
  digest: string;
}

// A key rotation on a running cluster: runs attested with key A, the Secret then holds key B
// (active) and A (retired). `provenance-observer resign`, as a CLI process with the observer's
// identity, config, Secret and index, re-attests the selected runs with B: bounded (--limit,
// --concurrency), resumable (a process SIGKILLed between pushing and recording continues), and
// idempotent (a second pass re-signs nothing; no duplicate layer), and leaves unselected runs alone.
describe('provenance-observer resign', () => {
  let env: LocalEnv;
  let namespace: string;
  const dir = mkdtempSync(join(tmpdir(), 'resign-'));
  const indexPath = join(dir, 'index.db');
  const keyA = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keyB = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = (k: typeof keyA) => k.publicKey.export({ format: 'pem', type: 'spki' }).toString();
  const blue: Run[] = [];
  let red: Run;

  beforeAll(async () => {
    env = loadLocalEnv();
    namespace = `resign-${Date.now().toString(36)}`;
    await admin.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });
    const obs = await startTestObserver(
      env,
      { 'observer.namespaces': namespace, 'index.path': indexPath },
      undefined,
      {
        key: keyA.privateKey,
      },
    );
    try {
      for (let i = 0; i < 6; i++) blue.push(await build('TaskRun', `build-${i}`, 'blue'));
      blue.push(await build('PipelineRun', 'release', 'blue'));
      red = await build('TaskRun', 'other-team', 'red');
      for (const r of [...blue, red])
        await waitFor(`${r.name} attested with key A`, async () =>
          (await obs.observer.index.getRunRecord(r.uid))?.status === 'attested' ? true : undefined,
        );
    } finally {
      await obs.stop();
    }
    // the rotation: B signs from now on, A stays published as retired
    await putSigningSecret(env, {
      'x509.pem': keyB.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      'cosign.pub': pem(keyB),
      'retired-a.pub': pem(keyA),
    });
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function build(kind: Kind, name: string, team: string): Promise<Run> {
    const image = await pushTestImage(env.registry, `${namespace}/${name}`, 'v1');
    const spec = kind === 'TaskRun' ? { taskRef: { name: 'buildah' } } : { pipelineRef: { name: 'release' } };
    const created = await createRun(admin, kind, namespace, name, spec, { labels: { team } });
    const results = [
      { name: 'IMAGE_URL', value: image.ref },
      { name: 'IMAGE_DIGEST', value: image.digest },
    ];
    await setRunStatus(
      admin,
      kind,
      namespace,
      name,
      kind === 'TaskRun'
        ? succeededTaskRunStatus(results)
        : {
            conditions: [{ type: 'Succeeded', status: 'True', reason: 'Succeeded' }],
            startTime: '2026-11-26T10:00:00Z',
            completionTime: '2026-11-26T10:00:20Z',
            pipelineSpec: { tasks: [] },
            childReferences: [],
            results,
          },
    );
    return {
      kind,
      name,
      uid: created.metadata.uid,
      repository: `${namespace}/${name}`,
      digest: image.digest,
    };
  }

  const args = (...extra: string[]) => [
    BIN,
    'resign',
    '--kubeconfig',
    env.kubeconfigs.observer,
    ...Object.entries({
      ...recommendedArtifactSettings(),
      'index.path': indexPath,
      'storage.oci.insecure-registries': env.registry,
      'storage.oci.allowed-private-registries': '127.0.0.1',
    }).flatMap(([k, v]) => ['--set', `${k}=${v}`]),
    '-n',
    namespace,
    '-l',
    'team=blue',
    ...extra,
  ];
  const childEnv = () => ({ ...process.env, POD_NAMESPACE: env.observerNamespace });
  const resign = (...extra: string[]) =>
    exec(process.execPath, args(...extra), { env: childEnv() }).then(
      (r) => ({ code: 0, ...r, summary: JSON.parse(r.stdout) }),
      (err: { code: number; stdout: string; stderr: string }) => ({ ...err, summary: undefined }),
    );
  const attestationsBy = async (r: Run, keyId: string) => {
    const index = new SqliteIndex({ path: indexPath });
    try {
      const all = await index.findByRun({ namespace, kind: r.kind, name: r.name });
      return all.filter((a) => a.keyId === keyId && a.run.uid === r.uid);
    } finally {
      await index.close();
    }
  };
  const layers = async (r: Run) => [
    await layerCount(env.registry, r.repository, r.digest, '.att'),
    await layerCount(env.registry, r.repository, r.digest, '.sig'),
  ];

  it('re-signs at most --limit runs, then continues where it stopped', async () => {
    const first = await resign('--limit', '3', '--concurrency', '2');
    expect(first.code, first.stderr).toBe(0);
    expect(first.summary).toMatchObject({ keyId: keyIdOf(keyB.publicKey), resigned: 3, failed: 0 });
    expect(first.stderr).toMatch(/resign: job [0-9a-f]{12} starts/);
    expect(first.stderr).toMatch(/resign: 3 re-signed, 0 current, 0 failed \(at TaskRun\/.*\/build-2\)/);
    const second = await resign('--limit', '2');
    expect(second.stderr).toMatch(/continues after TaskRun\/.*\/build-2/);
    expect(second.summary).toMatchObject({ resigned: 5, failed: 0 });
  }, 60_000);

  it('a resign killed between pushing and recording continues on the next run, with no duplicate layer', async () => {
    const killed = spawn(process.execPath, args(), {
      env: { ...childEnv(), PROVENANCE_OBSERVER_FAULT: 'kill-after-push' },
      stdio: 'ignore',
    });
    const [, signal] = await new Promise<[number | null, string | null]>((done) =>
      killed.on('exit', (code, sig) => done([code, sig])),
    );
    expect(signal).toBe('SIGKILL');
    const rest = await resign();
    expect(rest.code, rest.stderr).toBe(0);
    expect(rest.summary).toMatchObject({ failed: 0 });
    // every blue run: one attestation by B in the index, its annotations signed by B, one layer each by A and B
    for (const r of blue) {
      expect(await attestationsBy(r, keyIdOf(keyB.publicKey)), r.name).toHaveLength(1);
      expect(await layers(r), r.name).toEqual(r.kind === 'TaskRun' ? [2, 2] : [2, 0]);
      const annotations = (await getRun(admin, r.kind, namespace, r.name)).metadata.annotations ?? {};
      const envelope = Buffer.from(
        annotations[`chains.tekton.dev/signature-${r.kind.toLowerCase()}-${r.uid}`] ?? '',
        'base64',
      );
      expect(opensslVerifiesEnvelope(envelope, pem(keyB)), `${r.name} annotation signed by B`).toBe(true);
    }
    // not selected: still only A's
    expect(await attestationsBy(red, keyIdOf(keyB.publicKey))).toHaveLength(0);
    expect(await layers(red)).toEqual([1, 1]);
  }, 60_000);

  it('is idempotent: started over, every run is current and nothing is signed', async () => {
    const again = await resign('--restart');
    expect(again.code, again.stderr).toBe(0);
    expect(again.summary).toMatchObject({ resigned: 0, current: blue.length, failed: 0 });
    for (const r of blue) expect(await layers(r)).toEqual(r.kind === 'TaskRun' ? [2, 2] : [2, 0]);
  }, 60_000);

  it('re-attests after a format change (the TaskRuns, in SLSA v0.2)', async () => {
    const v02 = await resign('--kind', 'TaskRun', '--set', 'artifacts.taskrun.format=slsa/v0.2', '--dry-run');
    expect(v02.summary).toMatchObject({ resigned: 6, current: 0 });
    const done = await resign('--kind', 'TaskRun', '--set', 'artifacts.taskrun.format=slsa/v0.2');
    expect(done.summary).toMatchObject({ resigned: 6, failed: 0 });
    const types = (await attestationsBy(blue[0] as Run, keyIdOf(keyB.publicKey))).map((a) => a.predicateType);
    expect(types.sort()).toEqual(['https://slsa.dev/provenance/v0.2', 'https://slsa.dev/provenance/v1']);
  }, 60_000);
});
