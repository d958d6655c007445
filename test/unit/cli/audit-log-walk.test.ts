import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { walkLog } from '../../../src/cli/audit/log-walk.ts';
import { LogCheckpointer, SqliteIndex } from '../../../src/index/index.ts';
import { type DecisionEntry, noteKeyOf } from '../../../src/log/index.ts';

const ORIGIN = 'audit.test/log';
const entry = (i: number): DecisionEntry => ({
  v: 1,
  type: 'refused',
  run: { uid: `u${i}`, kind: 'TaskRun', namespace: 'tenant-a', name: `b${i}` },
  reason: 'r',
  at: '2026-12-05T00:00:00.000Z',
});

let dir: string | undefined;
afterEach(() => dir && rmSync(dir, { recursive: true, force: true }));

async function loggedIndex() {
  dir = mkdtempSync(join(tmpdir(), 'audit-'));
  const path = join(dir, 'index.db');
  const index = new SqliteIndex({ path });
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const signer = {
    keyId: 'k',
    algorithm: 'ed25519' as const,
    publicKeyPem,
    sign: async (d: Uint8Array) => ({ signature: sign(null, d, privateKey), keyId: 'k', publicKeyPem }),
  };
  const checkpointer = new LogCheckpointer({
    log: index,
    origin: ORIGIN,
    signer: () => signer,
    clock: Date.now,
  });
  await index.appendDecisions(Array.from({ length: 10 }, (_, i) => entry(i)));
  await checkpointer.checkpoint();
  await index.appendDecisions(Array.from({ length: 7 }, (_, i) => entry(10 + i)));
  await checkpointer.checkpoint();
  return { index, path, keys: [noteKeyOf(ORIGIN, publicKeyPem)] };
}

describe('audit: the log walk', () => {
  it('finds nothing wrong with an untouched log', async () => {
    const { index, keys } = await loggedIndex();
    const findings: string[] = [];
    const walk = await walkLog(index, keys, [], findings);
    expect(findings).toEqual([]);
    expect(walk.size).toBe(17);
    await index.close();
  });

  it('says which entry was deleted and which checkpoints no longer match', async () => {
    const { index, path, keys } = await loggedIndex();
    const db = new DatabaseSync(path);
    db.prepare('DELETE FROM log_entries WHERE seq = 4').run();
    db.close();
    const findings: string[] = [];
    await walkLog(index, keys, [], findings);
    expect(findings).toContain('log entries 4…4 are missing (deleted from the index?)');
    expect(findings.some((f) => /stored checkpoint 10 .*does not match the log's entries/.test(f))).toBe(
      true,
    );
    await index.close();
  });

  it('finds an entry whose contents were edited, and a checkpoint signed by another key', async () => {
    const { index, path } = await loggedIndex();
    const db = new DatabaseSync(path);
    db.prepare("UPDATE log_entries SET entry = replace(entry, 'tenant-a', 'tenant-b') WHERE seq = 12").run();
    db.close();
    const other = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const findings: string[] = [];
    await walkLog(index, [noteKeyOf(ORIGIN, other)], [], findings);
    expect(findings).toContain('log entry 12 (run u12) does not hash to its leaf: its contents were changed');
    expect(findings.filter((f) => f.includes('no signature by a known key'))).toHaveLength(2);
    await index.close();
  });
});
