import { generateKeyPairSync } from 'node:crypto';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FAULT_ENV } from '../../src/config/index.ts';
import { kubeConfigFor, loadLocalEnv } from '../env/index.ts';
import { asInContainer, deploySettings } from '../helpers/deploy-settings.ts';
import { putSigningSecret } from '../helpers/observer.ts';
import { ObserverProcess } from '../helpers/observer-process.ts';
import { ScratchDatabases } from '../helpers/postgres.ts';
import { layerCount } from '../helpers/registry-layers.ts';
import { TcpProxy } from '../helpers/tcp-proxy.ts';
import {
  completeBuildTaskRun,
  deleteAllRuns,
  getRun,
  runEvents,
  signedMarks,
  waitFor,
  waitForSigned,
} from '../helpers/tekton.ts';
import { pushTestImage } from '../helpers/test-image.ts';

// Issue 26 item 5, fencing. Two observers, each its own process with deploy's NODE_OPTIONS, share
// a PostgreSQL index; replica A reaches it through a TCP proxy, B directly. A takes a run's claim
// and its signature stalls (the test-only fault hook `stall-signing`: an HSM that hangs until
// SIGUSR2, then fails). The proxy cuts A off (black-holed: a partition, no reset, nothing
// crosses; or stopped: connections reset, new ones refused), A cannot renew, its lease lapses, B
// takes the run over and attests it, and a second run completed during the partition. Then the
// partition heals and A's signature fails: A's outcome (signed: failed, not retryable) is written
// under a claim that moved on. It must be refused, logged and counted on A, and never reach the
// run: signed stays "true", one .att and one .sig layer, the index's record and attestation are
// B's. No run stays unattested.
const LEASE_SECONDS = 2;

describe('a replica cut off from PostgreSQL while another attests', () => {
  const env = loadLocalEnv();
  const admin = kubeConfigFor('admin');
  const databases = new ScratchDatabases(env.postgresUrl);
  const settings = deploySettings();
  let proxy: TcpProxy | undefined;
  let namespace: string | undefined;
  const observers: ObserverProcess[] = [];
  afterEach(async () => {
    for (const o of observers.splice(0)) await o.stop();
    proxy?.heal();
    await proxy?.cut();
    if (namespace) await deleteAllRuns(admin, namespace);
  });
  afterAll(async () => {
    await databases.dropAll();
  });

  // black-holed: a partition (nothing crosses, no reset; A's queries hang to their timeouts);
  // stopped: the proxy resets A's connections and refuses new ones until it is started again
  const partitions = {
    'black-holed': { cut: (p: TcpProxy) => p.blackhole(), heal: async (p: TcpProxy) => p.heal() },
    stopped: { cut: (p: TcpProxy) => p.cut(), heal: (p: TcpProxy) => p.start() },
  };

  it.each(Object.keys(partitions) as (keyof typeof partitions)[])(
    "refuses the stale replica's write (proxy %s): it is logged and counted, and never reaches the run",
    { timeout: 300_000 },
    async (mode) => {
      const partition = partitions[mode];
      const t0 = Date.now();
      const step = (what: string) =>
        console.log(`[fencing ${mode} ${((Date.now() - t0) / 1000).toFixed(1)} s] ${what}`);
      const ns = `fencing-${Date.now().toString(36)}`;
      namespace = ns;
      await admin.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: ns } } });
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      await putSigningSecret(env, {
        'x509.pem': privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      });
      const url = new URL(await databases.create());
      const database = url.pathname.slice(1);
      proxy = new TcpProxy({ host: url.hostname, port: Number(url.port) });
      await proxy.start();
      const viaProxy = new URL(url);
      viaProxy.port = String(proxy.port);
      const config = (indexUrl: string) => ({
        'observer.namespaces': ns,
        'index.url': indexUrl,
        'index.tls-mode': 'verify-full',
        'index.tls-ca-file': env.postgresCaFile,
        'storage.oci.insecure-registries': env.registry,
        'storage.oci.allowed-private-registries': '127.0.0.1',
        'signing.secret.poll-seconds': '1',
        'observer.claim-lease-seconds': String(LEASE_SECONDS),
        'attestation.retry-base-ms': '500',
      });
      const start = async (indexUrl: string, fault?: string) => {
        const o = await ObserverProcess.start({
          kubeconfig: env.kubeconfigs.observer,
          config: config(indexUrl),
          nodeOptions: asInContainer(settings),
          env: { ...settings.env, ...(fault ? { [FAULT_ENV]: fault } : {}) },
        });
        observers.push(o);
        await o.ready();
        return o;
      };
      const sql = <R>(text: string, params: unknown[]) => databases.admin<R>(text, params, database);
      const build = async (name: string) => {
        const repository = `${ns}/${name}`;
        const image = await pushTestImage(env.registry, repository);
        await completeBuildTaskRun(image, { name, namespace: ns });
        const uid = (await getRun(admin, 'TaskRun', ns, name)).metadata.uid as string;
        return { name, repository, image, uid };
      };

      // A alone: it takes the run's claim, counts the attempt, and its signature stalls
      const a = await start(viaProxy.toString(), 'stall-signing');
      const first = await build('build-1');
      step('A ready, build-1 completed');
      await waitFor('A stalled in the signature, holding the claim', async () =>
        a.log().includes('a signature waits for SIGUSR2') ? true : undefined,
      );
      const [heldByA] = await sql<{ owner: string; fence: string }>(
        'SELECT owner, fence FROM run_work WHERE uid = $1',
        [first.uid],
      );
      expect(heldByA?.owner).toBeTruthy();
      step('A holds the claim, stalled');
      // A's attempt started before this; any attempt started after it is B's
      const stalledAt = Date.now();

      // B starts, finds the claim held (A renews it), then A is cut off from PostgreSQL
      const b = await start(url.toString());
      await partition.cut(proxy);
      step(`B ready; A's proxy ${mode}`);
      await waitForSigned('TaskRun', ns, first.name);
      step('build-1 signed (by B)');
      const during = await build('build-2');
      await waitForSigned('TaskRun', ns, during.name);
      step('build-2 signed during the partition');
      const [takenOver] = await sql<{ owner: string | null; fence: string }>(
        'SELECT owner, fence FROM run_work WHERE uid = $1',
        [first.uid],
      );
      expect(takenOver?.owner).not.toBe(heldByA?.owner);
      expect(Number(takenOver?.fence)).toBeGreaterThan(Number(heldByA?.fence));

      // the partition heals; A's signature fails and A writes its outcome under the old claim
      await partition.heal(proxy);
      await waitFor('A reaches the index again (/readyz 200)', async () =>
        (await fetch(`http://127.0.0.1:${a.port}/readyz`)).status === 200 ? true : undefined,
      );
      a.child.kill('SIGUSR2');
      step('healed, A ready; SIGUSR2 sent');
      // A's outcome is either refused (counted on A) or written over B's (the record leaves `attested`)
      const fencedOnA = async () =>
        Number(/fenced_writes_total\{kind="TaskRun"\} (\d+)/.exec(await a.metrics())?.[1] ?? 0);
      await waitFor("A's outcome for build-1 refused or written", async () => {
        if ((await fencedOnA()) > 0) return true;
        const [now] = await sql<{ status: string }>('SELECT status FROM run_states WHERE uid = $1', [
          first.uid,
        ]);
        return now?.status !== 'attested' ? true : undefined;
      });
      step("A's outcome for build-1 done");

      // never reaches the run: B's mark, B's record, B's attestation, one layer of each kind
      const run = await getRun(admin, 'TaskRun', ns, first.name);
      expect(run.metadata.annotations?.['chains.tekton.dev/signed']).toBe('true');
      expect(run.metadata.annotations?.['chains.tekton.dev/retries']).toBeUndefined();
      const [record] = await sql<{ status: string; last_error: string | null; last_attempt_at: number }>(
        'SELECT status, last_error, last_attempt_at::float8 AS last_attempt_at FROM run_states WHERE uid = $1',
        [first.uid],
      );
      expect(record?.status).toBe('attested');
      expect(record?.last_error).toBeNull();
      // the attempt that attested started after A's had stalled: B's
      expect(record?.last_attempt_at).toBeGreaterThan(stalledAt);
      const attestations = await sql<{ n: number }>(
        'SELECT count(*)::int AS n FROM attestations WHERE run_uid = $1',
        [first.uid],
      );
      expect(attestations).toEqual([{ n: 1 }]);
      expect(await layerCount(env.registry, first.repository, first.image.digest, '.att')).toBe(1);
      expect(await layerCount(env.registry, first.repository, first.image.digest, '.sig')).toBe(1);
      const warnings = (await runEvents(admin, ns, first.name)).filter((e) => e.type === 'Warning');
      expect(warnings.map((e) => `${e.reason}: ${e.message}`)).toEqual([]);

      // refused, logged and counted on A (and only there)
      const fenced = await fencedOnA();
      expect(fenced).toBe(1);
      expect(a.log()).toContain('the claim on the run moved to another replica; not writing this outcome');
      expect(b.log()).not.toContain('the claim on the run moved to another replica');

      // A works again (the fault is over), and no run stays unattested
      const after = await build('build-3');
      await waitForSigned('TaskRun', ns, after.name);
      const marks = await signedMarks(admin, 'TaskRun', ns);
      expect(Object.fromEntries(marks)).toEqual({ 'build-1': 'true', 'build-2': 'true', 'build-3': 'true' });
      const states = await sql<{ status: string; n: number }>(
        'SELECT status, count(*)::int AS n FROM run_states GROUP BY status',
        [],
      );
      expect(states).toEqual([{ status: 'attested', n: 3 }]);
      const limitMiB = (settings.memoryLimitBytes ?? Number.POSITIVE_INFINITY) / 2 ** 20;
      for (const o of [a, b]) expect(o.peakRssMiB()).toBeLessThan(limitMiB);
      console.log(
        `fencing (${mode}): A's claim fence ${heldByA?.fence} -> B's ${takenOver?.fence}; A refused ${fenced} write(s); peak RSS A ${a.peakRssMiB().toFixed(0)} MiB, B ${b.peakRssMiB().toFixed(0)} MiB (limit ${limitMiB.toFixed(0)})`,
      );
    },
  );
});
