import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeConfigFor, type LocalEnv, loadLocalEnv } from '../env/index.ts';
import { asInContainer, deploySettings } from '../helpers/deploy-settings.ts';
import { putSigningSecret } from '../helpers/observer.ts';
import { ObserverProcess } from '../helpers/observer-process.ts';
import { ScratchDatabases } from '../helpers/postgres.ts';
import { layerCount } from '../helpers/registry-layers.ts';
import { completeBuildTaskRun, runEvents, waitFor, waitForSigned } from '../helpers/tekton.ts';
import { pushTestImage } from '../helpers/test-image.ts';

// The index is not a root of trust (docs/security.md, "The index of record"): whoever can write to
// PostgreSQL inserts a captured copy of a run that does not exist in the cluster, naming an image
// of their choice. The observer, its own process with deploy's NODE_OPTIONS, restarted so that it
// resumes every unsettled capture, must not sign from that row: no attestation, no .att on the
// image, an IndexSealBroken Event on the run the row names and the seal-failure metric.
describe('a capture row written straight into PostgreSQL', () => {
  let env: LocalEnv;
  let databases: ScratchDatabases;
  let database: string;
  let observer: ObserverProcess | undefined;
  let config: Record<string, string>;
  const namespace = 'tenant-a';
  const admin = kubeConfigFor('admin');
  const start = () =>
    ObserverProcess.start({
      kubeconfig: env.kubeconfigs.observer,
      config,
      nodeOptions: asInContainer(deploySettings()),
    });

  beforeAll(async () => {
    env = loadLocalEnv();
    databases = new ScratchDatabases(env.postgresUrl);
    const url = await databases.create();
    database = new URL(url).pathname.slice(1);
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await putSigningSecret(env, {
      'x509.pem': privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    });
    config = {
      'observer.namespaces': namespace,
      // an Attested Event would show a forged row was signed from (off by default: it must be on to be absent)
      'observer.success-events': 'true',
      'index.url': url,
      'index.tls-mode': 'verify-full',
      'index.tls-ca-file': env.postgresCaFile,
      'storage.oci.insecure-registries': env.registry,
      'storage.oci.allowed-private-registries': '127.0.0.1',
      'signing.secret.poll-seconds': '1',
    };
  });
  afterAll(async () => {
    await observer?.stop();
    await databases?.dropAll();
  });

  it('is never signed from: no attestation, no .att, an IndexSealBroken Event and the metric', async () => {
    observer = await start();
    await observer.ready();
    // an honest run, attested from the live object; its sealed copy is the forger's template
    const stamp = Date.now().toString(36);
    const honest = await pushTestImage(env.registry, `seal/honest-${stamp}`);
    const name = await completeBuildTaskRun(honest, { name: `seal-honest-${stamp}`, namespace });
    await waitForSigned('TaskRun', namespace, name);
    const [copy] = await databases.admin<{ object: string; seal: string | null }>(
      'SELECT object, seal FROM run_captures WHERE name = $1',
      [name],
      database,
    );
    expect(copy?.seal).toMatch(/^s1\./);

    // the forged row: a run that does not exist, claiming another image, with and without a seal
    const target = await pushTestImage(env.registry, `seal/target-${stamp}`);
    const forged = (suffix: string) => {
      const object = JSON.parse(copy?.object ?? '{}');
      object.metadata = {
        ...object.metadata,
        name: `seal-forged-${suffix}-${stamp}`,
        uid: `forged-${suffix}-${stamp}`,
      };
      object.status.results = [
        { name: 'IMAGE_URL', value: target.ref },
        { name: 'IMAGE_DIGEST', value: target.digest },
      ];
      return object;
    };
    for (const [suffix, seal] of [
      ['unsealed', null],
      ['copied-seal', copy?.seal ?? null],
    ] as const) {
      const object = forged(suffix);
      await databases.admin(
        `INSERT INTO run_captures (uid, kind, namespace, name, object, captured_at, seal)
         VALUES ($1, 'TaskRun', $2, $3, $4, $5, $6)`,
        [object.metadata.uid, namespace, object.metadata.name, JSON.stringify(object), Date.now(), seal],
        database,
      );
    }
    // restarted: it resumes every unsettled capture (a run deleted after capture is in no list)
    await observer.stop();
    observer = await start();
    await observer.ready();

    for (const suffix of ['unsealed', 'copied-seal']) {
      const events = await waitFor(`IndexSealBroken on ${suffix}`, async () => {
        const e = await runEvents(admin, namespace, `seal-forged-${suffix}-${stamp}`);
        return e.some((x) => x.reason === 'IndexSealBroken') ? e : undefined;
      });
      expect(events.map((e) => e.reason)).not.toContain('Attested');
    }
    const metrics = await observer.metrics();
    const failures = (reason: string) =>
      Number(
        metrics
          .split('\n')
          .find((l) =>
            l.startsWith(
              `provenance_observer_index_seal_failures_total{table="run_captures",reason="${reason}"}`,
            ),
          )
          ?.split(' ')
          .pop() ?? 0,
      );
    expect(failures('unsealed')).toBeGreaterThanOrEqual(1);
    expect(failures('mismatch')).toBeGreaterThanOrEqual(1);
    // give a wrongly trusting observer the time it would need to sign, then look
    await new Promise((r) => setTimeout(r, 3000));
    const attested = await databases.admin<{ n: string }>(
      `SELECT count(*) AS n FROM attestations WHERE run_uid LIKE 'forged-%'`,
      [],
      database,
    );
    expect(Number(attested[0]?.n)).toBe(0);
    expect(await layerCount(env.registry, `seal/target-${stamp}`, target.digest, '.att')).toBe(0);
  });
});
