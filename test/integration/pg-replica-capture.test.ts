import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunCapture } from '../../src/index/index.ts';
import { PgIndex } from '../../src/index/pg/pg-index.ts';
import { IndexSeal } from '../../src/index/seal/index-seal.ts';
import { kubeConfigFor, loadLocalEnv } from '../env/index.ts';
import { forEachLimited, ImageFactory } from '../helpers/image-factory.ts';
import { putSigningSecret } from '../helpers/observer.ts';
import { ObserverProcess } from '../helpers/observer-process.ts';
import { ScratchDatabases } from '../helpers/postgres.ts';
import { layerCount } from '../helpers/registry-layers.ts';
import { completeBuildTaskRun, deleteAllRuns, waitForSigned } from '../helpers/tekton.ts';

// Issue 24: every replica watches every run, so every replica sees each finished run. Its capture
// (the copy a run deleted before signing is attested from) must still cost one row write, however
// many replicas saw it: the first writes it, the others find it (or lose the race on the row)
// and write nothing. Counted by a trigger on run_captures, on the real PostgreSQL.

const env = loadLocalEnv();
const databases = new ScratchDatabases(env.postgresUrl);
afterAll(() => databases.dropAll());

/** Records every row write of run_captures (not the upserts that changed nothing) in capture_writes. */
async function countCaptureWrites(database: string): Promise<() => Promise<Map<string, number>>> {
  for (const sql of [
    'CREATE TABLE capture_writes (uid TEXT NOT NULL, op TEXT NOT NULL)',
    `CREATE FUNCTION count_capture_write() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
     BEGIN INSERT INTO capture_writes VALUES (NEW.uid, TG_OP); RETURN NEW; END $$`,
    `CREATE TRIGGER capture_writes AFTER INSERT OR UPDATE ON run_captures
     FOR EACH ROW EXECUTE FUNCTION count_capture_write()`,
  ])
    await databases.admin(sql, [], database);
  return async () => {
    const rows = await databases.admin<{ uid: string; n: number }>(
      'SELECT uid, count(*)::int AS n FROM capture_writes GROUP BY uid',
      [],
      database,
    );
    return new Map(rows.map((r) => [r.uid, r.n]));
  };
}

const copy = (uid: string, resourceVersion: string, note: string): RunCapture => ({
  uid,
  run: { kind: 'TaskRun', namespace: 'tenant-a', name: `build-${uid}` },
  object: { kind: 'TaskRun', metadata: { name: `build-${uid}`, uid, resourceVersion }, status: { note } },
  capturedAt: new Date(),
});

describe('a capture on PostgreSQL, shared by replicas', () => {
  it('is written once for a version several replicas capture at once; another version replaces it', async () => {
    const url = await databases.create();
    const secret = new Uint8Array(randomBytes(32)); // replicas share the seal key (a Secret)
    const replicas = await Promise.all(
      Array.from({ length: 3 }, () =>
        PgIndex.open({ url, tls: { mode: 'disable' }, seal: new IndexSeal({ secret }) }),
      ),
    );
    try {
      const writes = await countCaptureWrites(new URL(url).pathname.slice(1));
      expect(await replicas[0].capturedVersions(['u1'])).toEqual(new Map());
      // the same sighting from three replicas at once, and again later
      await Promise.all(replicas.map((r, i) => r.captureRuns([copy('u1', '7', `replica ${i}`)])));
      await Promise.all(replicas.map((r) => r.captureRuns([copy('u1', '7', 'later')])));
      expect((await writes()).get('u1')).toBe(1);
      const first = await replicas[1].findCapturedRun(copy('u1', '7', '').run);
      expect(first?.object.status).toEqual({ note: expect.stringMatching(/^replica \d$/) });
      expect(await replicas[2].capturedVersions(['u1', 'u2'])).toEqual(
        new Map([['u1', { resourceVersion: '7', evidence: false }]]),
      );
      // a newer version of the run (its DELETED event's final object, say) still replaces the copy
      await replicas[2].captureRuns([copy('u1', '9', 'final')]);
      expect((await writes()).get('u1')).toBe(2);
      expect((await replicas[0].findCapturedRun(copy('u1', '9', '').run))?.object.status).toEqual({
        note: 'final',
      });
    } finally {
      await Promise.all(replicas.map((r) => r.close()));
    }
  });
});

describe('three observer processes on one PostgreSQL index', () => {
  const admin = kubeConfigFor('admin');
  const namespace = `replica-capture-${Date.now().toString(36)}`;
  const observers: ObserverProcess[] = [];
  let database = '';
  let writes: () => Promise<Map<string, number>>;

  beforeAll(async () => {
    await admin.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await putSigningSecret(env, {
      'x509.pem': privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    });
    const url = await databases.create();
    database = new URL(url).pathname.slice(1);
    const config = {
      'index.url': url,
      'index.tls-mode': 'disable',
      'observer.namespaces': namespace,
      'storage.oci.insecure-registries': env.registry,
      'storage.oci.allowed-private-registries': '127.0.0.1',
    };
    for (let i = 0; i < 3; i++)
      observers.push(await ObserverProcess.start({ kubeconfig: env.kubeconfigs.observer, config }));
    await Promise.all(observers.map((o) => o.ready()));
    writes = await countCaptureWrites(database); // the schema exists once a replica is ready
  }, 180_000);
  afterAll(async () => {
    await Promise.all(observers.map((o) => o.stop()));
    await deleteAllRuns(admin, namespace);
  });

  it('write each finished run’s capture once and attest it once', async () => {
    const images = new ImageFactory({ registry: env.registry, repository: `replica-capture/${namespace}` });
    const runs = Array.from({ length: 6 }, (_, i) => `build-${i}`);
    const digests = new Map<string, string>();
    await forEachLimited(runs.length, 3, async (i) => {
      const image = await images.push(runs[i]);
      digests.set(runs[i], image.digest);
      await completeBuildTaskRun(image, { name: runs[i], namespace });
    });
    const uids = await Promise.all(
      runs.map(async (name) => (await waitForSigned('TaskRun', namespace, name)).metadata.uid as string),
    );
    // the losers' reconciles and the echoes of each mark have come and gone by now
    await new Promise((r) => setTimeout(r, 3000));
    const counted = await writes();
    expect(uids.map((uid) => counted.get(uid))).toEqual(uids.map(() => 1));
    const attested = await databases.admin<{ n: number }>(
      `SELECT count(*)::int AS n FROM run_states WHERE status = 'attested' AND uid = ANY($1)`,
      [uids],
      database,
    );
    expect(attested[0].n).toBe(runs.length);
    for (const name of runs) {
      const digest = digests.get(name) as string;
      expect(await layerCount(env.registry, `replica-capture/${namespace}`, digest, '.att')).toBe(1);
      expect(await layerCount(env.registry, `replica-capture/${namespace}`, digest, '.sig')).toBe(1);
    }
  }, 180_000);
});
