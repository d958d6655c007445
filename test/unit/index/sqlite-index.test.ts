import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ObserverError } from '../../../src/errors.ts';
import { attestationId, SqliteIndex } from '../../../src/index/index.ts';
import { MIGRATIONS } from '../../../src/index/sqlite/sqlite-schema.ts';
import { digestOf, newAttestation } from './attestation-fixtures.ts';
import { captureContract } from './capture-contract.ts';
import { decisionLogContract } from './decision-log-contract.ts';
import { indexContract } from './index-contract.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sqlite-index-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

indexContract('SqliteIndex', async (clock) => new SqliteIndex({ path: ':memory:', now: () => clock.now }));
captureContract('SqliteIndex', async (clock) => new SqliteIndex({ path: ':memory:', now: () => clock.now }));
decisionLogContract(
  'SqliteIndex',
  async (clock) => new SqliteIndex({ path: ':memory:', now: () => clock.now }),
);

describe('attestationId', () => {
  it('does not depend on the key order of the envelope object', () => {
    const e = newAttestation({}).envelope;
    const reordered = { signatures: e.signatures, payload: e.payload, payloadType: e.payloadType };
    expect(attestationId('u', reordered)).toBe(attestationId('u', e));
    expect(attestationId('u', { ...e, payload: 'eA==' })).not.toBe(attestationId('u', e));
  });
});

describe('SqliteIndex on disk', () => {
  it('survives reopening: data, schema version and WAL mode persist', async () => {
    const path = join(dir, 'index.db');
    const first = new SqliteIndex({ path });
    const id = await first.addAttestation(newAttestation({}));
    await first.putRunRecord({
      uid: 'u1',
      run: { kind: 'TaskRun', namespace: 'tenant-a', name: 'build-1' },
      status: 'attested',
      attempts: 0,
      updatedAt: new Date(5),
    });
    await first.close();
    await first.close(); // closing twice is harmless

    const second = new SqliteIndex({ path });
    expect((await second.getAttestation(id))?.id).toBe(id);
    expect((await second.getRunRecord('u1'))?.status).toBe('attested');
    await second.close();

    const raw = new DatabaseSync(path);
    expect(raw.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' });
    expect(raw.prepare('SELECT version FROM schema_migrations').all()).toEqual(
      MIGRATIONS.map((_, i) => ({ version: i + 1 })),
    );
    raw.close();
  });

  it('migrates a version-1 file: digest lookups find rows written before the upgrade', async () => {
    const path = join(dir, 'v1.db');
    const raw = new DatabaseSync(path);
    raw.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
    raw.exec(MIGRATIONS[0]);
    raw.exec('INSERT INTO schema_migrations VALUES (1, 0)');
    raw.exec(
      `INSERT INTO attestations VALUES ('${'a'.repeat(64)}', 'u1', 'TaskRun', 'tenant-a', 'old', 'p', 'k', '{}', '[]', 7)`,
    );
    raw.exec(
      `INSERT INTO subjects VALUES ('${'a'.repeat(64)}', 'img', '${digestOf('app')}'), ('${'a'.repeat(64)}', 'img2', '${digestOf('app')}')`,
    );
    raw.close();
    const index = new SqliteIndex({ path });
    const page = await index.findByDigest(digestOf('app'), { limit: 10 });
    expect(page.items.map((i) => [i.id, i.run.name, i.createdAt.getTime()])).toEqual([
      ['a'.repeat(64), 'old', 7],
    ]);
    expect(await index.payloadBytes('tenant-a')).toBe(2); // '{}', counted by the migration
    await index.close();
  });

  it('refuses a database written by a newer schema', () => {
    const path = join(dir, 'future.db');
    new SqliteIndex({ path }).close();
    const raw = new DatabaseSync(path);
    raw
      .prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, 0)')
      .run(MIGRATIONS.length + 1);
    raw.close();
    expect(() => new SqliteIndex({ path })).toThrow(/newer than this build/);
  });

  it('two instances on one file see each other’s writes', async () => {
    const path = join(dir, 'shared.db');
    const a = new SqliteIndex({ path });
    const b = new SqliteIndex({ path });
    const writes = [];
    for (let i = 0; i < 50; i++) {
      const target = i % 2 ? a : b;
      writes.push(
        target.addAttestation(newAttestation({ name: `r-${i}`, sig: `s${i}`, createdAt: new Date(i) })),
      );
    }
    await Promise.all(writes);
    for (const reader of [a, b]) {
      let count = 0;
      let cursor: string | undefined;
      do {
        const page = await reader.findByDigest(digestOf('app'), { limit: 7, cursor });
        count += page.items.length;
        cursor = page.next;
      } while (cursor);
      expect(count).toBe(50);
    }
    await a.close();
    await b.close();
  });

  it('two threads writing one file at the same time lose nothing (WAL + busy timeout)', async () => {
    const path = join(dir, 'threads.db');
    new SqliteIndex({ path }).close(); // create the schema first so both workers only write rows
    const count = 200;
    const run = (writer: string) =>
      new Promise<void>((resolve, reject) => {
        const w = new Worker(new URL('./concurrent-writer.ts', import.meta.url), {
          workerData: { path, writer, count },
        });
        w.on('error', reject);
        w.on('exit', (code) =>
          code === 0 ? resolve() : reject(new Error(`writer ${writer} exited ${code}`)),
        );
      });
    await Promise.all([run('w1'), run('w2')]);
    const index = new SqliteIndex({ path });
    const page = await index.findByDigest(digestOf('shared'), { limit: 1000 });
    expect(page.items).toHaveLength(2 * count);
    expect(new Set(page.items.map((i) => i.run.name)).size).toBe(2 * count);
    expect((await index.getRunRecord('uid-w2-199'))?.status).toBe('attested');
    await index.close();
  }, 30_000); // two worker threads on a shared 2-core machine

  it('two instances on one file: exactly one takes a claim, the other sees it', async () => {
    const path = join(dir, 'claims.db');
    const a = new SqliteIndex({ path });
    const b = new SqliteIndex({ path });
    const won = await Promise.all([a.claimRun('u1', 'a', 60_000), b.claimRun('u1', 'b', 60_000)]);
    expect(won.filter((w) => w.held)).toHaveLength(1);
    const holder = won[0]?.held ? 'a' : 'b';
    expect((await a.getRunWork('u1'))?.claim?.owner).toBe(holder);
    expect((await b.getRunWork('u1'))?.claim?.owner).toBe(holder);
    await a.close();
    await b.close();
  });

  it('a full disk is a retryable index error that writes nothing; reads still work', async () => {
    const path = join(dir, 'full.db');
    const index = new SqliteIndex({ path, maxBytes: 156 * 1024 }); // the empty schema is 148 KiB
    const big = 'x'.repeat(4096);
    let err: unknown;
    let stored = 0;
    for (let i = 0; i < 100 && !err; i++) {
      const a = newAttestation({ name: `r-${i}`, sig: `${big}${i}` });
      err = await index.addAttestation(a).then(
        () => undefined,
        (e: unknown) => e,
      );
      if (err) expect(await index.getAttestation(attestationId(a.run.uid, a.envelope))).toBeUndefined();
      else stored++;
    }
    expect(stored).toBeGreaterThan(0);
    expect(err).toBeInstanceOf(ObserverError);
    expect(err).toMatchObject({ code: 'index', retryable: true });
    expect((err as Error).message).toMatch(/index disk full \(SQLITE_FULL\), nothing was written/);
    expect((err as Error).message).toContain(`TaskRun tenant-a/r-${stored}`);
    expect((await index.findByDigest(digestOf('app'), { limit: 1000 })).items).toHaveLength(stored);
    await index
      .putRunRecord({
        uid: 'small',
        run: { kind: 'TaskRun', namespace: 'tenant-a', name: 'small' },
        status: 'pending',
        attempts: 0,
        updatedAt: new Date(1),
      })
      .catch(() => undefined); // may or may not fit; either way the index stays usable
    expect(await index.healthy()).toBe(true);
    await index.close();
  });
});
