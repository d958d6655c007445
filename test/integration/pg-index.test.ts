import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { ObserverError } from '../../src/errors.ts';
import { indexFromOptions } from '../../src/index/index.ts';
import { PgIndex, type PgIndexOptions } from '../../src/index/pg/pg-index.ts';
import { PG_MIGRATIONS } from '../../src/index/pg/pg-schema.ts';
import { loadLocalEnv } from '../env/index.ts';
import { ScratchDatabases } from '../helpers/postgres.ts';
import { TcpProxy } from '../helpers/tcp-proxy.ts';
import { digestOf, newAttestation } from '../unit/index/attestation-fixtures.ts';
import { captureContract } from '../unit/index/capture-contract.ts';
import { decisionLogContract } from '../unit/index/decision-log-contract.ts';
import { indexContract } from '../unit/index/index-contract.ts';
import { usageContract } from '../unit/index/usage-contract.ts';

const env = loadLocalEnv();
const databases = new ScratchDatabases(env.postgresUrl);
afterAll(() => databases.dropAll());

const open = async (options: Partial<PgIndexOptions> = {}) =>
  PgIndex.open({ url: await databases.create(), tls: { mode: 'disable' }, ...options });

indexContract('PgIndex', async (clock) => open({ now: () => clock.now }));
captureContract('PgIndex', async (clock) => open({ now: () => clock.now }));
decisionLogContract('PgIndex', async (clock) => open({ now: () => clock.now }));
usageContract('PgIndex', async (clock) => open({ now: () => clock.now }));

/** Polls `check` every 100 ms until it holds, failing after `ms`. */
async function eventually(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not ${what} after ${ms} ms`);
    await sleep(100);
  }
}

describe('the test environment PostgreSQL', () => {
  it('is PostgreSQL 15 with TLS on and password auth over TCP', async () => {
    const [row] = await databases.admin<{ server_version: string; ssl: string }>(
      "SELECT current_setting('server_version') AS server_version, current_setting('ssl') AS ssl",
    );
    expect(row.server_version).toMatch(/^15\./);
    expect(row.ssl).toBe('on');
    const wrong = new URL(env.postgresUrl);
    wrong.password = 'wrong';
    await expect(PgIndex.open({ url: wrong.toString(), tls: { mode: 'disable' } })).rejects.toThrow(
      /password authentication failed/,
    );
  });
});

describe('PgIndex migrations', () => {
  it('replicas starting at once migrate once and all open', async () => {
    const url = await databases.create();
    const replicas = await Promise.all(
      Array.from({ length: 5 }, () => PgIndex.open({ url, tls: { mode: 'disable' } })),
    );
    const name = new URL(url).pathname.slice(1);
    const versions = await databases.admin<{ version: number }>(
      'SELECT version FROM schema_migrations ORDER BY version',
      [],
      name,
    );
    expect(versions.map((v) => v.version)).toEqual(PG_MIGRATIONS.map((_, i) => i + 1));
    const id = await replicas[0].addAttestation(newAttestation({}));
    expect((await replicas[4].getAttestation(id))?.id).toBe(id);
    await Promise.all(replicas.map((r) => r.close()));
  });

  it('refuses a database written by a newer schema', async () => {
    const url = await databases.create();
    await (await PgIndex.open({ url, tls: { mode: 'disable' } })).close();
    const name = new URL(url).pathname.slice(1);
    await databases.admin('INSERT INTO schema_migrations VALUES ($1, 0)', [PG_MIGRATIONS.length + 1], name);
    await expect(PgIndex.open({ url, tls: { mode: 'disable' } })).rejects.toMatchObject({
      code: 'index',
      retryable: false,
      message: expect.stringMatching(/newer than this build/),
    });
  });

  it('is what indexFromOptions opens for a postgres:// url (and SQLite otherwise)', async () => {
    const url = await databases.create();
    const pg = await indexFromOptions({ url, path: ':memory:', tls: { mode: 'disable' } });
    expect(pg).toBeInstanceOf(PgIndex);
    await pg.close();
    const sqlite = await indexFromOptions({ url: '', path: ':memory:' });
    expect(sqlite).not.toBeInstanceOf(PgIndex);
    await sqlite.close();
  });
});

describe('PgIndex TLS', () => {
  const sslOf = async (url: string) => {
    const name = new URL(url).pathname.slice(1);
    const rows = await databases.admin<{ ssl: boolean }>(
      `SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a ON a.pid = s.pid
       WHERE a.datname = $1 AND a.application_name = 'provenance-observer'`,
      [name],
    );
    return [...new Set(rows.map((r) => r.ssl))];
  };

  it('verify-full with the server CA connects encrypted; disable connects in the clear', async () => {
    const ca = readFileSync(env.postgresCaFile, 'utf8');
    const url = await databases.create();
    const verified = await PgIndex.open({ url, tls: { mode: 'verify-full', ca } });
    expect(await verified.healthy()).toBe(true);
    expect(await sslOf(url)).toEqual([true]);
    await verified.close();
    const plain = await PgIndex.open({ url, tls: { mode: 'disable' } });
    expect(await plain.healthy()).toBe(true);
    expect(await sslOf(url)).toEqual([false]);
    await plain.close();
    const required = await PgIndex.open({ url }); // require is the default
    expect(await required.healthy()).toBe(true);
    expect(await sslOf(url)).toEqual([true]);
    await required.close();
  });

  it('verify-full refuses a server certificate it cannot verify, without leaking the password', async () => {
    const url = await databases.create();
    const err = await PgIndex.open({ url, tls: { mode: 'verify-full' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ObserverError);
    expect((err as ObserverError).code).toBe('index');
    expect((err as Error).message).toMatch(/certificate/i);
    expect((err as Error).message).not.toContain(new URL(env.postgresUrl).password);
  });

  it('refuses an sslmode in the URL as a config error (TLS comes from index.tls-mode only)', async () => {
    for (const sslmode of ['prefer', 'disable'])
      await expect(
        PgIndex.open({ url: `postgres://u:p@127.0.0.1:1/db?sslmode=${sslmode}` }),
      ).rejects.toMatchObject({
        code: 'config_invalid',
        message: expect.stringContaining('index.tls-mode'),
      });
  });
});

describe('PgIndex connection loss', () => {
  it('fails retryably and reports unhealthy while the database is unreachable, then recovers on its own', async () => {
    const direct = new URL(await databases.create());
    const proxy = new TcpProxy({ host: '127.0.0.1', port: Number(direct.port) });
    await proxy.start();
    const viaProxy = new URL(direct);
    viaProxy.port = String(proxy.port);
    const warnings: string[] = [];
    const index = await PgIndex.open({
      url: viaProxy.toString(),
      tls: { mode: 'disable' },
      connectTimeoutMs: 1000,
      logger: { warn: (_: unknown, msg?: string) => warnings.push(String(msg)) },
    });
    const run = { kind: 'TaskRun' as const, namespace: 'tenant-a', name: 'build-1' };
    await index.putRunRecord({ uid: 'u1', run, status: 'pending', attempts: 1, updatedAt: new Date(1) });
    expect(await index.healthy()).toBe(true);

    await proxy.cut();
    // the pooled connection breaks while idle: reported, not thrown (an unhandled 'error' would crash)
    await eventually(async () => warnings.some((w) => w.includes('idle connection lost')), 5000, 'warned');
    const lost = newAttestation({ uid: 'u1' });
    const failures = await Promise.all([
      index.addAttestation(lost).catch((e: unknown) => e),
      index
        .putRunRecord({ uid: 'u1', run, status: 'attested', attempts: 1, updatedAt: new Date(2) })
        .catch((e) => e),
      index.claimRun('u1', 'replica-a', 30_000).catch((e: unknown) => e),
      index.getRunRecord('u1').catch((e: unknown) => e),
    ]);
    for (const err of failures) {
      expect(err).toBeInstanceOf(ObserverError);
      expect(err).toMatchObject({ code: 'index', retryable: true });
    }
    expect((failures[1] as Error).message).toContain('setting state of TaskRun tenant-a/build-1');
    expect(await index.healthy()).toBe(false);

    await proxy.start(); // same port
    await eventually(() => index.healthy(), 15_000, 'healthy again');
    expect(await index.getRunRecord('u1')).toMatchObject({ status: 'pending' }); // nothing marked attested
    expect((await index.findByDigest(digestOf('app'), { limit: 10 })).items).toEqual([]);
    await index.addAttestation(lost);
    expect((await index.findByDigest(digestOf('app'), { limit: 10 })).items).toHaveLength(1);
    await index.close();
    await proxy.cut();
  });

  it('absorbs the server dropping every connection (a restart or failover): the next calls succeed', async () => {
    const url = await databases.create();
    const index = await PgIndex.open({ url, tls: { mode: 'disable' }, logger: { warn: () => undefined } });
    const run = { kind: 'TaskRun' as const, namespace: 'tenant-a', name: 'build-1' };
    await index.putRunRecord({ uid: 'u1', run, status: 'pending', attempts: 0, updatedAt: new Date(1) });
    const killed = await databases.admin<{ ok: boolean }>(
      `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
       WHERE datname = $1 AND application_name = 'provenance-observer'`,
      [new URL(url).pathname.slice(1)],
    );
    expect(killed.length).toBeGreaterThan(0);
    // a call may land on a connection the server just closed: then it fails retryably, once
    const first = await index.getRunRecord('u1').catch((e: unknown) => e);
    if (first instanceof Error) expect(first).toMatchObject({ code: 'index', retryable: true });
    await eventually(
      async () => (await index.getRunRecord('u1').catch(() => undefined))?.status === 'pending',
      5000,
      'read',
    );
    await index.close();
  });

  it('open fails with a retryable index error when nothing listens', async () => {
    const proxy = new TcpProxy({ host: '127.0.0.1', port: 1 });
    await proxy.start();
    const port = proxy.port;
    await proxy.cut();
    const err = await PgIndex.open({
      url: `postgres://u:secret-pw@127.0.0.1:${port}/db`,
      tls: { mode: 'disable' },
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'index', retryable: true });
    expect((err as Error).message).toContain(`127.0.0.1:${port}/db`);
    expect((err as Error).message).not.toContain('secret-pw');
  });
});

describe('PgIndex decision log across replicas', () => {
  it('three pools appending at once give one gapless sequence whose tree matches its leaves', async () => {
    const { entryLeafHash, MemoryTree, treeRoot } = await import('../../src/log/index.ts');
    const url = await databases.create();
    const replicas = await Promise.all([0, 1, 2].map(() => PgIndex.open({ url, tls: { mode: 'disable' } })));
    const entry = (r: number, i: number) => ({
      v: 1 as const,
      type: 'refused' as const,
      run: { uid: `r${r}-${i}`, kind: 'TaskRun', namespace: 'tenant-a', name: `b${r}-${i}` },
      reason: 'x',
      at: '2026-12-05T00:00:00.000Z',
    });
    await Promise.all(
      replicas.map(async (index, r) => {
        for (let i = 0; i < 20; i++) await index.appendDecisions([entry(r, i), entry((r + 1) % 3, i)]);
      }),
    );
    const [first] = replicas;
    if (!first) throw new Error('no replica');
    expect(await first.logSize()).toBe(60);
    const all = await first.logEntries(0, 100);
    expect(all.map((e) => e.seq)).toEqual(Array.from({ length: 60 }, (_, i) => i));
    const mirror = new MemoryTree();
    await mirror.append(all.map((e) => entryLeafHash(JSON.parse(e.entry ?? ''))));
    const root = await treeRoot((ids) => first.logNodes(ids), 60);
    expect(root.equals(await treeRoot(mirror.read, 60))).toBe(true);
    await Promise.all(replicas.map((r) => r.close()));
  });
});
