import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ObserverError } from '../../../src/errors.ts';
import { attestationId, SqliteIndex } from '../../../src/index/index.ts';
import { MIGRATIONS } from '../../../src/index/sqlite-schema.ts';
import { digestOf, newAttestation } from './attestation-fixtures.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sqlite-index-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('SqliteIndex attestations', () => {
  it('records an attestation and reads back its summary and exact envelope', async () => {
    const index = new SqliteIndex({ path: ':memory:' });
    const a = newAttestation({ digests: [digestOf('app'), digestOf('lib')] });
    const id = await index.addAttestation(a);
    expect(id).toBe(attestationId(a.run.uid, a.envelope));
    const summary = await index.getAttestation(id);
    expect(summary).toEqual({
      id,
      run: a.run,
      predicateType: a.predicateType,
      subjects: [...a.subjects].sort((x, y) => x.name.localeCompare(y.name)),
      keyId: a.keyId,
      storage: a.storage,
      createdAt: a.createdAt,
    });
    expect(await index.getEnvelope(id)).toEqual(a.envelope);
    expect(await index.getAttestation('0'.repeat(64))).toBeUndefined();
    expect(await index.getEnvelope('0'.repeat(64))).toBeUndefined();
    await index.close();
  });

  it('is idempotent: the same envelope for the same run keeps one row and the latest storage outcomes', async () => {
    const index = new SqliteIndex({ path: ':memory:' });
    const first = newAttestation({});
    const again = {
      ...first,
      createdAt: new Date('2025-02-01T00:00:00Z'),
      storage: [{ backend: 'oci' as const, ok: false, locations: [], error: 'registry down' }],
    };
    const id1 = await index.addAttestation(first);
    const id2 = await index.addAttestation(again);
    expect(id2).toBe(id1);
    const page = await index.findByDigest(digestOf('app'), { limit: 10 });
    expect(page.items).toHaveLength(1);
    expect(page.items[0].storage).toEqual(again.storage);
    expect(page.items[0].createdAt).toEqual(first.createdAt);
    // another run (different uid) with the same envelope is a different attestation
    const other = await index.addAttestation({ ...first, run: { ...first.run, uid: 'uid-2' } });
    expect(other).not.toBe(id1);
    await index.close();
  });

  it('ids do not depend on the key order of the envelope object', () => {
    const e = newAttestation({}).envelope;
    const reordered = { signatures: e.signatures, payload: e.payload, payloadType: e.payloadType };
    expect(attestationId('u', reordered)).toBe(attestationId('u', e));
    expect(attestationId('u', { ...e, payload: 'eA==' })).not.toBe(attestationId('u', e));
  });

  it('rejects a subject digest that is not alg:hex, without writing anything', async () => {
    const index = new SqliteIndex({ path: ':memory:' });
    const bad = newAttestation({ digests: [digestOf('ok'), 'latest'] });
    const err = await index.addAttestation(bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ObserverError);
    expect((err as ObserverError).code).toBe('input_invalid');
    expect((err as ObserverError).message).toContain('TaskRun tenant-a/build-1');
    expect((await index.findByDigest(digestOf('ok'), { limit: 5 })).items).toEqual([]);
    await index.close();
  });

  it('matches digests case-insensitively', async () => {
    const index = new SqliteIndex({ path: ':memory:' });
    await index.addAttestation(
      newAttestation({ digests: [digestOf('app').toUpperCase().replace('SHA256', 'sha256')] }),
    );
    expect((await index.findByDigest(digestOf('app'), { limit: 5 })).items).toHaveLength(1);
    expect((await index.findByDigest(digestOf('app').toUpperCase(), { limit: 5 })).items).toHaveLength(1);
    await index.close();
  });

  it('paginates findByDigest newest first with a stable keyset cursor, ties broken by id', async () => {
    const index = new SqliteIndex({ path: ':memory:' });
    const ids: { id: string; t: number }[] = [];
    for (let i = 0; i < 7; i++) {
      const t = 1_000 + Math.floor(i / 2); // pairs share a timestamp
      ids.push({
        id: await index.addAttestation(
          newAttestation({ name: `r-${i}`, sig: `s${i}`, createdAt: new Date(t) }),
        ),
        t,
      });
    }
    await index.addAttestation(newAttestation({ name: 'other', digests: [digestOf('other')] }));
    const expected = [...ids].sort((a, b) => b.t - a.t || (a.id < b.id ? 1 : -1)).map((x) => x.id);

    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await index.findByDigest(digestOf('app'), { limit: 3, cursor });
      seen.push(...page.items.map((i) => i.id));
      cursor = page.next;
      pages++;
      // a row added mid-walk (newer than everything) must not shift later pages
      if (pages === 1)
        await index.addAttestation(newAttestation({ name: 'late', sig: 'late', createdAt: new Date(9_999) }));
    } while (cursor);
    expect(seen).toEqual(expected);
    expect(pages).toBe(3);
    await index.close();
  });

  it('lists the (namespace, kind) pairs of a digest, and pages within given scopes only', async () => {
    const index = new SqliteIndex({ path: ':memory:' });
    const add = (namespace: string, kind: 'TaskRun' | 'PipelineRun', t: number) =>
      index.addAttestation(
        newAttestation({ namespace, kind, name: `r-${t}`, sig: `s${t}`, createdAt: new Date(t) }),
      );
    await add('tenant-b', 'TaskRun', 0);
    const a1 = await add('tenant-a', 'TaskRun', 1);
    await add('tenant-b', 'TaskRun', 2);
    const a3 = await add('tenant-a', 'TaskRun', 3);
    await add('tenant-a', 'PipelineRun', 4);
    await add('tenant-b', 'TaskRun', 5);
    expect(await index.digestScopes(digestOf('app').toUpperCase())).toEqual([
      { namespace: 'tenant-a', kind: 'PipelineRun' },
      { namespace: 'tenant-a', kind: 'TaskRun' },
      { namespace: 'tenant-b', kind: 'TaskRun' },
    ]);
    expect(await index.digestScopes(digestOf('none'))).toEqual([]);
    const scopes = [{ namespace: 'tenant-a', kind: 'TaskRun' as const }];
    const first = await index.findByDigest(digestOf('app'), { limit: 1, scopes });
    expect(first.items.map((i) => i.id)).toEqual([a3]);
    const second = await index.findByDigest(digestOf('app'), { limit: 1, scopes, cursor: first.next });
    expect(second.items.map((i) => i.id)).toEqual([a1]);
    expect(second.next).toBeUndefined(); // the older tenant-b row does not keep the listing open
    expect((await index.findByDigest(digestOf('app'), { limit: 5, scopes: [] })).items).toEqual([]);
    expect((await index.findByDigest(digestOf('app'), { limit: 10 })).items).toHaveLength(6);
    await index.close();
  });

  it('gives no next cursor when the last page is exactly full', async () => {
    const index = new SqliteIndex({ path: ':memory:' });
    for (let i = 0; i < 2; i++) await index.addAttestation(newAttestation({ name: `r-${i}`, sig: `s${i}` }));
    const page = await index.findByDigest(digestOf('app'), { limit: 2 });
    expect(page.items).toHaveLength(2);
    expect(page.next).toBeUndefined();
    await index.close();
  });

  it('rejects malformed cursors and limits as bad input', async () => {
    const index = new SqliteIndex({ path: ':memory:' });
    for (const cursor of ['!!', 'bm90LWEtY3Vyc29y', '']) {
      await expect(index.findByDigest(digestOf('app'), { limit: 2, cursor })).rejects.toMatchObject({
        code: 'input_invalid',
      });
    }
    await expect(index.findByDigest(digestOf('app'), { limit: 0 })).rejects.toMatchObject({
      code: 'input_invalid',
    });
    await index.close();
  });

  it('lists a run across uids (re-created runs) newest first, and not other kinds or namespaces', async () => {
    const index = new SqliteIndex({ path: ':memory:' });
    const older = await index.addAttestation(newAttestation({ uid: 'u1', createdAt: new Date(1) }));
    const newer = await index.addAttestation(newAttestation({ uid: 'u2', createdAt: new Date(2) }));
    await index.addAttestation(newAttestation({ kind: 'PipelineRun', uid: 'u3' }));
    await index.addAttestation(newAttestation({ namespace: 'tenant-b', uid: 'u4' }));
    const items = await index.findByRun({ namespace: 'tenant-a', kind: 'TaskRun', name: 'build-1' });
    expect(items.map((i) => i.id)).toEqual([newer, older]);
    await index.close();
  });
});

describe('SqliteIndex run states', () => {
  it('upserts by uid and finds states by run key, most recently updated first', async () => {
    const index = new SqliteIndex({ path: ':memory:' });
    const run = { kind: 'TaskRun' as const, namespace: 'tenant-a', name: 'build-1' };
    await index.setRunState({
      uid: 'u1',
      run,
      status: 'pending',
      attempts: 1,
      lastError: 'registry down',
      updatedAt: new Date(1),
    });
    expect(await index.getRunState('u1')).toEqual({
      uid: 'u1',
      run,
      status: 'pending',
      attempts: 1,
      lastError: 'registry down',
      updatedAt: new Date(1),
    });
    await index.setRunState({ uid: 'u1', run, status: 'attested', attempts: 1, updatedAt: new Date(3) });
    expect(await index.getRunState('u1')).toEqual({
      uid: 'u1',
      run,
      status: 'attested',
      attempts: 1,
      updatedAt: new Date(3),
    });
    await index.setRunState({
      uid: 'u0',
      run,
      status: 'failed',
      attempts: 5,
      lastError: 'x',
      updatedAt: new Date(2),
    });
    await index.setRunState({
      uid: 'u9',
      run: { ...run, kind: 'PipelineRun' },
      status: 'failed',
      attempts: 5,
      updatedAt: new Date(4),
    });
    expect((await index.findRunStates(run)).map((s) => s.uid)).toEqual(['u1', 'u0']);
    expect(await index.getRunState('missing')).toBeUndefined();
    await index.close();
  });

  it('rejects an unknown status (schema CHECK) as an index error naming the run', async () => {
    const index = new SqliteIndex({ path: ':memory:' });
    const run = { kind: 'TaskRun' as const, namespace: 'tenant-a', name: 'build-1' };
    const bad = { uid: 'u1', run, status: 'signed' as 'attested', attempts: 0, updatedAt: new Date(1) };
    await expect(index.setRunState(bad)).rejects.toMatchObject({
      code: 'index',
      message: expect.stringContaining('TaskRun tenant-a/build-1'),
    });
    await index.close();
  });
});

describe('SqliteIndex on disk', () => {
  it('survives reopening: data, schema version and WAL mode persist', async () => {
    const path = join(dir, 'index.db');
    const first = new SqliteIndex({ path });
    const id = await first.addAttestation(newAttestation({}));
    await first.setRunState({
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
    expect((await second.getRunState('u1'))?.status).toBe('attested');
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
    expect((await index.getRunState('uid-w2-199'))?.status).toBe('attested');
    await index.close();
  });
});
