import { describe, expect, it } from 'vitest';
import { ObserverError } from '../../../src/errors.ts';
import { IndexPruner, SqliteIndex } from '../../../src/index/index.ts';
import { createLogger } from '../../../src/observability/index.ts';

const DAY = 86_400_000;
const NOW = Date.parse('2026-11-27T12:00:00Z');
const run = (name: string) => ({ kind: 'TaskRun' as const, namespace: 'ns', name });

async function indexWith(names: string[]) {
  const index = new SqliteIndex({ path: ':memory:' });
  await index.captureRuns(
    names.map((n) => ({ uid: n, run: run(n), object: {}, capturedAt: new Date(NOW - DAY) })),
  );
  for (const n of names)
    await index.putRunRecord({
      uid: n,
      run: run(n),
      status: 'attested',
      attempts: 0,
      updatedAt: new Date(NOW),
    });
  return index;
}

describe('IndexPruner', () => {
  it('prunes runs deleted past the retention, and copies of settled runs deleted past the grace', async () => {
    const index = await indexWith(['ancient', 'recent', 'just-now', 'live']);
    await index.markRunDeleted('ancient', new Date(NOW - 91 * DAY));
    await index.markRunDeleted('recent', new Date(NOW - 2 * 3_600_000));
    await index.markRunDeleted('just-now', new Date(NOW - 60_000));
    const pruned: Record<string, number> = {};
    const pruner = new IndexPruner({
      index,
      logger: createLogger({ level: 'silent' }),
      retentionDays: 90,
      batch: 1,
      now: () => NOW,
      onPruned: (what, n) => {
        pruned[what] = n;
      },
    });
    await pruner.pruneOnce();
    expect(pruned).toEqual({ runs: 1, captures: 1 });
    expect(await index.getRunRecord('ancient')).toBeUndefined();
    expect(await index.getRunRecord('recent')).toBeDefined(); // its record stays for the retention…
    expect(await index.findCapturedRun(run('recent'))).toBeUndefined(); // …its copy is not needed
    expect(await index.findCapturedRun(run('just-now'))).toBeDefined(); // still within the grace
    expect(await index.findCapturedRun(run('live'))).toBeDefined();
  });

  it('a failed round is logged, not thrown', async () => {
    const lines: string[] = [];
    const index = await indexWith([]);
    index.pruneDeletedRuns = async () => {
      throw new ObserverError('index busy', { code: 'index', retryable: true });
    };
    const logger = createLogger({ level: 'warn', destination: { write: (l: string) => void lines.push(l) } });
    await new IndexPruner({ index, logger, retentionDays: 90 }).pruneOnce();
    expect(lines.join()).toContain('pruning the index failed');
  });
});
