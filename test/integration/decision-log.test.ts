import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteIndex } from '../../src/index/index.ts';
import { noteKeyOf, openCheckpoint, verifyConsistency } from '../../src/log/index.ts';
import { createLogger } from '../../src/observability/index.ts';
import { OciBackend } from '../../src/storage/index.ts';
import { kubeConfigFor, loadLocalEnv } from '../env/index.ts';
import { checkedImages } from '../helpers/checked-images.ts';
import { ImageFactory } from '../helpers/image-factory.ts';
import { putSigningSecret } from '../helpers/observer.ts';
import { ObserverFleet } from '../helpers/observer-fleet.ts';
import { ObserverProcess } from '../helpers/observer-process.ts';
import { ScratchDatabases } from '../helpers/postgres.ts';
import { type StreamedRun, streamRuns } from '../helpers/run-stream.ts';
import { provenanceStatement, signedProvenance } from '../helpers/signed-artifacts.ts';
import { completeBuildTaskRun, deleteAllRuns, getRun, waitFor } from '../helpers/tekton.ts';
import { pushTestImage } from '../helpers/test-image.ts';

const BIN = join(import.meta.dirname, '../../bin/provenance-observer.js');
const run = promisify(execFile);
const ORIGIN = 'decision-log.test/log';
// DECISION_LOG_RUNS scales it (the issue's figure is 200; the shared 2-core machine runs fewer)
const RUNS = Number(process.env.DECISION_LOG_RUNS ?? 60);

/** `provenance-observer audit …` as a process: its exit code and output. */
async function audit(args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await run(process.execPath, [BIN, 'audit', ...args]);
    return { code: 0, out: stdout };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: `${e.stdout}${e.stderr}` };
  }
}

describe('the decision log on a real cluster, registry and PostgreSQL', () => {
  const env = loadLocalEnv();
  const admin = kubeConfigFor('admin');
  const databases = new ScratchDatabases(env.postgresUrl);
  let fleet: ObserverFleet | undefined;
  let namespace: string | undefined;
  afterAll(async () => {
    await fleet?.stop();
    if (namespace) await deleteAllRuns(admin, namespace);
    await databases.dropAll();
  });

  it('3 replicas killed while runs stream in: one entry per run, no gaps, consistent checkpoints; audit finds a rogue .att and a deleted entry', {
    timeout: 600_000,
  }, async () => {
    // the test's runs carry a fixed completion time (test/helpers/tekton.ts); the namespace is the test's own
    const since = '2026-01-01T00:00:00Z';
    namespace = `declog-${Date.now().toString(36)}`;
    await admin.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });
    const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await putSigningSecret(env, {
      'x509.pem': keys.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    });
    const dir = mkdtempSync(join(tmpdir(), 'declog-'));
    const publicKeyFile = join(dir, 'pub.pem');
    const publicKeyPem = keys.publicKey.export({ format: 'pem', type: 'spki' }).toString();
    writeFileSync(publicKeyFile, publicKeyPem);
    const indexUrl = await databases.create();
    const database = new URL(indexUrl).pathname.slice(1);
    const settings = {
      'index.url': indexUrl,
      'index.tls-mode': 'disable',
      'decision-log.origin': ORIGIN,
      'decision-log.checkpoint-seconds': '1',
    };
    const config = {
      ...settings,
      'observer.namespaces': namespace,
      'storage.oci.insecure-registries': env.registry,
      'storage.oci.allowed-private-registries': '127.0.0.1',
      'observer.claim-lease-seconds': '3',
      'attestation.retry-base-ms': '500',
      'attestation.max-attempts': '10',
    };
    fleet = new ObserverFleet((d) =>
      ObserverProcess.start({ kubeconfig: env.kubeconfigs.observer, config, dir: d }),
    );
    await fleet.up(3);
    const replicas = fleet;
    const killer = (async () => {
      // three kills, one every ~1 s after the last restart, starting as the runs stream in (the
      // pace of the faults, not a wait for state)
      while (replicas.kills < 3) {
        await new Promise((r) => setTimeout(r, 1000));
        await replicas.killAndRestart(replicas.kills % 3);
      }
    })();
    const repository = `declog/${namespace}`;
    const images = new ImageFactory({ registry: env.registry, repository });
    const runs: StreamedRun[] = await streamRuns({
      admin,
      namespace,
      images,
      taskRuns: RUNS,
      pipelineRuns: 0,
      deleteEvery: 0,
      concurrency: 3,
    });
    const killsWhileStreaming = replicas.kills;
    await killer;
    expect(killsWhileStreaming).toBeGreaterThanOrEqual(1);
    const uids = runs.map((r) => r.uid);
    const q = <R extends Record<string, unknown>>(sql: string, params: unknown[] = []) =>
      databases.admin<R>(sql, params, database);
    await waitFor(
      `all ${RUNS} runs attested`,
      async () => {
        const [row] = await q<{ n: number }>(
          "SELECT count(*)::int AS n FROM run_states WHERE status = 'attested' AND uid = ANY($1)",
          [uids],
        );
        return row?.n === RUNS ? true : undefined;
      },
      300_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${replicas.stderr()}`);
    });
    // a run whose attempt was killed after its envelope reached the run is adopted by the next replica
    const perRun = await q<{ run_uid: string; n: number; types: string }>(
      "SELECT run_uid, count(*)::int AS n, string_agg(type, ',') AS types FROM log_entries WHERE type IN ('attested', 'adopted') GROUP BY run_uid",
    );
    const [seq] = await q<{ size: string; n: number; max: string }>(
      'SELECT (SELECT size FROM log_head) AS size, count(*)::int AS n, max(seq) AS max FROM log_entries',
    );
    console.log(
      `decision log after ${replicas.kills} kills (${killsWhileStreaming} while runs streamed in): ${JSON.stringify(seq)}, ${perRun.length} runs logged, ${perRun.filter((r) => r.types === 'adopted').length} adopted`,
    );
    expect(perRun.filter((r) => uids.includes(r.run_uid)).map((r) => r.n)).toEqual(uids.map(() => 1));
    expect(Number(seq?.size)).toBe(seq?.n);
    expect(Number(seq?.max)).toBe((seq?.n ?? 0) - 1);

    // checkpoints: signed by the replicas every second; the final one covers every entry
    const key = noteKeyOf(ORIGIN, publicKeyPem);
    await waitFor('a checkpoint of the whole log', async () => {
      const [c] = await q<{ size: string }>('SELECT max(size) AS size FROM log_checkpoints');
      return Number(c?.size) === seq?.n ? true : undefined;
    });
    // the newest checkpoint is copied into the decision-log-checkpoint ConfigMap for auditors
    await waitFor('the checkpoint ConfigMap', async () => {
      const cm = await admin
        .makeApiClient(CoreV1Api)
        .readNamespacedConfigMap({ namespace: 'provenance-observer', name: 'decision-log-checkpoint' });
      const c = openCheckpoint(cm.data?.checkpoint ?? '', [noteKeyOf(ORIGIN, publicKeyPem)]);
      return !('error' in c) && c.size === seq?.n ? true : undefined;
    });
    const notes = await q<{ note: string }>('SELECT note FROM log_checkpoints WHERE size > 0 ORDER BY size');
    expect(notes.length).toBeGreaterThan(1);
    const sets = [
      '--set',
      `index.url=${indexUrl}`,
      '--set',
      'index.tls-mode=disable',
      '--set',
      `decision-log.origin=${ORIGIN}`,
    ];
    const firstNote = join(dir, 'first.note');
    writeFileSync(firstNote, notes[0]?.note ?? '');
    const clean = await audit([
      ...sets,
      '--key',
      publicKeyFile,
      '--checkpoint',
      firstNote,
      '--repository',
      `${env.registry}/${repository}`,
      '--insecure-registry',
    ]);
    expect(clean.out).toContain('audit passed');
    expect(clean.code).toBe(0);
    expect(clean.out).toMatch(new RegExp(`registry: ${RUNS} \\.att layer`));
    // two checkpoints an auditor kept are consistent (proof from the API's route, here the index's nodes)
    const c1 = openCheckpoint(notes[0]?.note ?? '', [key]);
    const c2 = openCheckpoint(notes.at(-1)?.note ?? '', [key]);
    if ('error' in c1 || 'error' in c2) throw new Error('checkpoint does not open');
    const { PgIndex } = await import('../../src/index/pg/pg-index.ts');
    const index = await PgIndex.open({ url: indexUrl, tls: { mode: 'disable' } });
    const { consistencyProof } = await import('../../src/log/index.ts');
    const proof = await consistencyProof((ids) => index.logNodes(ids), c1.size, c2.size);
    expect(verifyConsistency(c1.size, c2.size, c1.rootHash, c2.rootHash, proof)).toBeUndefined();
    await index.close();

    // an attestation signed with our key, written straight into the registry: audit reports it
    const rogue = await images.push('rogue');
    const [image] = await checkedImages([
      { repository: `${env.registry}/${repository}`, digest: rogue.digest },
    ]);
    if (!image) throw new Error('no checked image');
    const artifact = signedProvenance([image], provenanceStatement([image]), keys.privateKey);
    const stored = await new OciBackend({
      logger: createLogger({ level: 'silent' }),
      insecure: true,
      network: { allowedPrivate: ['127.0.0.1'] },
    }).store({
      run: { kind: 'TaskRun', namespace, name: 'rogue', uid: 'rogue-uid', serviceAccountName: 'pipeline' },
      artifact,
    });
    expect(stored.ok).toBe(true);
    // the repositories the log stored attestations in, found by the audit itself
    const rogueAudit = await audit([
      ...sets,
      '--key',
      publicKeyFile,
      '--repositories-from-log',
      '--insecure-registry',
    ]);
    console.log(rogueAudit.out);
    expect(rogueAudit.out).toContain(
      `registry: ${RUNS + 1} .att layer(s) signed with our keys in 1 repositor(ies)`,
    );
    expect(rogueAudit.code).toBe(1);
    expect(rogueAudit.out).toMatch(
      /MISSING .*sha256-[0-9a-f]{64}\.att layer sha256:[0-9a-f]{64} is signed with our key but its payload sha256:[0-9a-f]{64} is not in the log/,
    );

    // every run that completed in the namespace since the test began has its decision
    const cluster = () => [
      '--since',
      since,
      '--until',
      new Date(Date.now() + 60_000).toISOString(),
      '--namespaces',
      namespace as string,
      '--kubeconfig',
      env.kubeconfigs.observer,
    ];
    const covered = await audit([...sets, '--key', publicKeyFile, ...cluster()]);
    expect(covered.out).toContain(`runs: ${RUNS} completed`);
    expect(covered.code).toBe(0);

    // with the observers gone: a run completes undecided, and an entry is deleted from the database;
    // audit reports the run, and where the log no longer matches its checkpoints
    await fleet.stop();
    fleet = undefined;
    const undecided = await completeBuildTaskRun(await pushTestImage(env.registry, `${repository}-late`), {
      name: 'late-1',
      namespace,
    });
    const [lost] = await q<{ run_uid: string }>('SELECT run_uid FROM log_entries WHERE seq = 7');
    await q('DELETE FROM log_entries WHERE seq = 7');
    const broken = await audit([...sets, '--key', publicKeyFile, ...cluster()]);
    console.log(broken.out);
    expect(broken.code).toBe(1);
    expect(broken.out).toMatch(
      new RegExp(`MISSING TaskRun ${namespace}/${undecided} \\(uid [^)]+\\) has no decision in the log`),
    );
    expect(broken.out).toContain('MISSING log entries 7…7 are missing (deleted from the index?)');
    // and the run whose entry it was now has no decision
    expect(broken.out).toContain(`(uid ${lost?.run_uid}, completed`);
    expect(broken.out).toMatch(
      /MISSING stored checkpoint \d+ .*does not match the log's entries|has size \d+, the log only/,
    );
  });

  it('a run refused by the trust checks (execution check: enforce, no Pod) has its refusal entry', {
    timeout: 180_000,
  }, async () => {
    const ns = `declog-refused-${Date.now().toString(36)}`;
    await admin.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: ns } } });
    const keys = generateKeyPairSync('ed25519');
    await putSigningSecret(env, {
      'x509.pem': keys.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    });
    const image = await pushTestImage(env.registry, `${ns}/app`);
    const name = await completeBuildTaskRun(image, { name: 'build-1', namespace: ns });
    const observer = await ObserverProcess.start({
      kubeconfig: env.kubeconfigs.observer,
      config: {
        'observer.namespaces': ns,
        'storage.oci.insecure-registries': env.registry,
        'storage.oci.allowed-private-registries': '127.0.0.1',
        'attestation.execution-check': 'enforce',
      },
    });
    try {
      await observer.ready();
      await waitFor(`signed=failed on ${name}`, async () => {
        const r = await getRun(admin, 'TaskRun', ns, name);
        return r.metadata.annotations?.['chains.tekton.dev/signed'] === 'failed' ? r : undefined;
      });
    } finally {
      await observer.stop();
      await deleteAllRuns(admin, ns);
    }
    const index = new SqliteIndex({ path: join(observer.dir, 'index.db') });
    try {
      const entries = (await index.logEntries(0, 100)).filter((e) => e.namespace === ns);
      expect(entries.map((e) => e.type)).toEqual(['refused']);
      const entry = JSON.parse(entries[0]?.entry ?? '{}');
      expect(entry.run).toMatchObject({ kind: 'TaskRun', namespace: ns, name });
      expect(entry.reason).toMatch(/pod|execution/i);
    } finally {
      await index.close();
    }
  });
});
