import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteIndex } from '../../../src/index/index.ts';
import { usageContract } from './usage-contract.ts';

usageContract('SqliteIndex', async (clock) => new SqliteIndex({ path: ':memory:', now: () => clock.now }));

describe('SqliteIndex storage', () => {
  it('reports the database size, and the volume of a file-backed index', async () => {
    const memory = new SqliteIndex({ path: ':memory:' });
    expect((await memory.storageBytes()).volume).toBeUndefined();
    const file = new SqliteIndex({ path: join(mkdtempSync(join(tmpdir(), 'idx-')), 'index.db') });
    const storage = await file.storageBytes();
    expect(storage.databaseBytes).toBeGreaterThan(0);
    expect(storage.volume?.totalBytes).toBeGreaterThan(storage.volume?.freeBytes ?? Infinity);
  });
});
