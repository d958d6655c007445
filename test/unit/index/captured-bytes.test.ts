import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteIndex } from '../../../src/index/index.ts';

const capture = (uid: string, namespace: string, bytes: number) => ({
  uid,
  run: { kind: 'TaskRun' as const, namespace, name: uid },
  object: { metadata: { uid, name: uid, namespace }, pad: 'x'.repeat(bytes) },
  capturedAt: new Date(1000),
});

describe('captured bytes per namespace (SQLite triggers)', () => {
  it('counts captures on insert, replace and prune, per namespace', async () => {
    const index = new SqliteIndex({ path: ':memory:' });
    await index.captureRuns([capture('u1', 'a', 10_000), capture('u2', 'a', 5_000), capture('u3', 'b', 100)]);
    const a = await index.capturedBytes('a');
    expect(a).toBeGreaterThan(15_000);
    expect(a).toBeLessThan(15_600);
    expect(await index.capturedBytes('b')).toBeLessThan(a / 10);
    // the same uid again replaces its copy: counted once, at its new size
    await index.captureRuns([capture('u1', 'a', 1_000)]);
    expect(await index.capturedBytes('a')).toBe(a - 9_000);
    await index.markRunDeleted('u2', new Date(0));
    await index.pruneDeletedRuns(new Date(1));
    expect(await index.capturedBytes('a')).toBeLessThan(1_300);
    expect(await index.capturedBytes('nobody')).toBe(0);
    expect(await index.payloadBytes('a')).toBe(0); // envelopes are their own total
  });

  it('reports the database size, and the volume of a file-backed index', async () => {
    const memory = new SqliteIndex({ path: ':memory:' });
    expect((await memory.storageBytes()).volume).toBeUndefined();
    const file = new SqliteIndex({ path: join(mkdtempSync(join(tmpdir(), 'idx-')), 'index.db') });
    const storage = await file.storageBytes();
    expect(storage.databaseBytes).toBeGreaterThan(0);
    expect(storage.volume?.totalBytes).toBeGreaterThan(storage.volume?.freeBytes ?? Infinity);
  });
});
