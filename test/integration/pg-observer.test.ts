import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgIndex } from '../../src/index/pg/pg-index.ts';
import { freePort, type LocalEnv, loadLocalEnv } from '../env/index.ts';
import { startTestObserver, type TestObserver } from '../helpers/observer.ts';
import { ScratchDatabases } from '../helpers/postgres.ts';
import { TcpProxy } from '../helpers/tcp-proxy.ts';
import { completeBuildTaskRun, waitFor, waitForSigned } from '../helpers/tekton.ts';
import { pushTestImage } from '../helpers/test-image.ts';

// The observer with `index.url` set: its index of record is a real PostgreSQL, reached over TLS
// through a TCP proxy the test can cut, so an outage is observable from outside (/readyz).
describe('the observer on a PostgreSQL index', () => {
  let env: LocalEnv;
  let databases: ScratchDatabases;
  let proxy: TcpProxy;
  let obs: TestObserver;
  let database: string;

  beforeAll(async () => {
    env = loadLocalEnv();
    databases = new ScratchDatabases(env.postgresUrl);
    const url = new URL(await databases.create());
    database = url.pathname.slice(1);
    proxy = new TcpProxy({ host: '127.0.0.1', port: Number(url.port) });
    await proxy.start();
    url.port = String(proxy.port);
    obs = await startTestObserver(env, {
      'index.url': url.toString(),
      'index.tls-mode': 'verify-full',
      'index.tls-ca-file': env.postgresCaFile,
    });
  });
  afterAll(async () => {
    await obs?.stop();
    await proxy?.cut();
    await databases?.dropAll();
  });

  const readyz = async () => {
    const res = await fetch(`${obs.observer.address}/readyz`);
    return {
      status: res.status,
      body: (await res.json()) as { checks: Record<string, { ok: boolean; message?: string }> },
    };
  };

  it('records the attestation of a completed TaskRun in PostgreSQL, over TLS', async () => {
    expect(obs.observer.index).toBeInstanceOf(PgIndex);
    const image = await pushTestImage(env.registry, `e2e/pg-${Date.now()}`, 'v1');
    const name = await completeBuildTaskRun(image, { name: `pg-build-${Date.now()}` });
    const run = await waitForSigned('TaskRun', 'tenant-a', name);
    const rows = await databases.admin<{ kind: string; name: string; digest: string }>(
      `SELECT a.kind, a.name, s.digest FROM attestations a JOIN subjects s ON s.attestation_id = a.id
       WHERE a.run_uid = $1`,
      [run.metadata.uid],
      database,
    );
    expect(rows).toEqual([{ kind: 'TaskRun', name, digest: image.digest }]);
    const state = await obs.observer.index.getRunRecord(run.metadata.uid as string);
    expect(state?.status).toBe('attested');
    const tls = await databases.admin<{ ssl: boolean }>(
      `SELECT DISTINCT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a ON a.pid = s.pid
       WHERE a.datname = $1 AND a.application_name = 'provenance-observer'`,
      [database],
    );
    expect(tls).toEqual([{ ssl: true }]);
  });

  it('is not ready while the database is unreachable, and ready again once it is back', async () => {
    expect((await readyz()).body.checks.index).toEqual({ ok: true });
    await proxy.cut();
    const down = await waitFor('readyz 503 with the index check failing', async () => {
      const r = await readyz();
      return r.status === 503 && r.body.checks.index?.ok === false ? r : undefined;
    });
    expect(down.body.checks.index.message).toMatch(/index database not answering since/);
    expect(down.body.checks.watch?.ok).toBe(true); // only the index is down
    await proxy.start();
    await waitFor('readyz 200 again', async () => ((await readyz()).status === 200 ? true : undefined));
  });

  it('starts while the database is down: live (the startup probe passes), not ready, counted as index errors; ready once it is back', async () => {
    const url = new URL(await databases.create());
    const late = new TcpProxy({ host: '127.0.0.1', port: Number(url.port) });
    await late.start();
    await late.cut();
    url.port = String(late.port);
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const starting = startTestObserver(env, {
      'index.url': url.toString(),
      'index.tls-mode': 'verify-full',
      'index.tls-ca-file': env.postgresCaFile,
      'http.port': String(port),
    });
    let started: TestObserver | undefined;
    try {
      const waiting = await waitFor('/readyz 503 naming the index', async () => {
        const r = await fetch(`${base}/readyz`).catch(() => undefined);
        if (r?.status !== 503) return undefined;
        const body = (await r.json()) as { checks: Record<string, { ok: boolean; message?: string }> };
        return body.checks.startup?.message?.includes('index of record not reachable') ? body : undefined;
      });
      expect(waiting.checks.startup?.ok).toBe(false);
      expect((await fetch(`${base}/livez`)).status).toBe(200);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      const errors = metrics.match(/store_results_total\{backend="index",outcome="error"\} (\d+)/);
      expect(Number(errors?.[1])).toBeGreaterThan(0);
      await late.start();
      started = await starting;
      await waitFor('readyz 200 once the database answers', async () =>
        (await fetch(`${base}/readyz`)).status === 200 ? true : undefined,
      );
      expect(started.observer.index).toBeInstanceOf(PgIndex);
    } finally {
      if (!started) {
        await late.start().catch(() => undefined);
        started = await starting.catch(() => undefined);
      }
      await started?.stop();
      await late.cut();
    }
  });
});
