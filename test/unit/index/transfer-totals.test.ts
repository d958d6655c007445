import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteIndex } from '../../../src/index/index.ts';
import { exportIndex, importIndex } from '../../../src/index/transfer/index-transfer.ts';
import { SqliteTableAccess } from '../../../src/index/transfer/sqlite-table-access.ts';

const capture = (uid: string, namespace: string, bytes: number) => ({
  uid,
  run: { kind: 'TaskRun' as const, namespace, name: uid },
  object: { metadata: { uid, name: uid, namespace }, pad: 'x'.repeat(bytes) },
  capturedAt: new Date(1000),
});

// A total that triggers keep (namespace_usage.capture_bytes) must arrive once in the copy: the
// dump carries it, and inserting the captured rows recounts it.
describe('index export/import of trigger-kept totals', () => {
  it('copies the captured bytes per namespace once, not twice', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'transfer-totals-'));
    const source = new SqliteIndex({ path: join(dir, 'source.db') });
    await source.captureRuns([capture('u1', 'a', 4_000), capture('u2', 'b', 900)]);
    const bytes = { a: await source.capturedBytes('a'), b: await source.capturedBytes('b') };
    expect(bytes.a).toBeGreaterThan(4_000);
    await source.close();

    const lines: string[] = [];
    const from = new SqliteTableAccess(join(dir, 'source.db'));
    await exportIndex(from, async (line) => void lines.push(line.trimEnd()));
    await from.close();
    expect(lines.some((l) => l.includes('"capture_bytes":'))).toBe(true);
    const to = new SqliteTableAccess(join(dir, 'copy.db'));
    await importIndex(
      to,
      (async function* () {
        yield* lines;
      })(),
    );
    await to.close();

    const copy = new SqliteIndex({ path: join(dir, 'copy.db') });
    expect(await copy.capturedBytes('a')).toBe(bytes.a);
    expect(await copy.capturedBytes('b')).toBe(bytes.b);
    await copy.close();
  });
});
