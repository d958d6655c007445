import { describe, expect, it } from 'vitest';
import { CaptureWriter } from '../../../src/controller/capture-writer.ts';
import { ObserverError } from '../../../src/errors.ts';
import { type RunCapture, SqliteIndex } from '../../../src/index/index.ts';

const capture = (i: number): RunCapture => ({
  uid: `u${i}`,
  run: { kind: 'TaskRun', namespace: 'ns', name: `r${i}` },
  object: { i },
  capturedAt: new Date(1),
});

describe('CaptureWriter', () => {
  it('writes captures arriving together in few transactions: 1,200 at once → 3 batches of at most 500', async () => {
    const index = new SqliteIndex({ path: ':memory:' });
    const batches: number[] = [];
    const writer = new CaptureWriter({
      index: {
        captureRuns: async (c) => {
          batches.push(c.length);
          return index.captureRuns(c);
        },
      },
    });
    await Promise.all(Array.from({ length: 1_200 }, (_, i) => writer.capture(capture(i))));
    expect(batches).toEqual([500, 500, 200]);
    // each promise resolved only after its copy was durable
    expect((await index.findCapturedRun({ kind: 'TaskRun', namespace: 'ns', name: 'r1199' }))?.uid).toBe(
      'u1199',
    );
  });

  it('a lone capture is written after the linger time, not held for a full batch', async () => {
    const batches: number[] = [];
    const writer = new CaptureWriter({
      index: { captureRuns: async (c) => void batches.push(c.length) },
      lingerMs: 1,
    });
    await writer.capture(capture(1));
    expect(batches).toEqual([1]);
  });

  it('a failed batch rejects every capture in it with the index error', async () => {
    const full = new ObserverError('index disk full', { code: 'index', retryable: true });
    const writer = new CaptureWriter({
      index: {
        captureRuns: async () => {
          throw full;
        },
      },
    });
    const results = await Promise.allSettled([writer.capture(capture(1)), writer.capture(capture(2))]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(results.map((r) => r.status === 'rejected' && r.reason)).toEqual([full, full]);
  });
});
