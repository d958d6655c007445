import { describe, expect, it } from 'vitest';
import { KeyedBatcher } from '../../../src/oci/index.ts';

describe('KeyedBatcher', () => {
  it('runs one batch per key at a time and gives later submissions to the next batch together', async () => {
    const batcher = new KeyedBatcher<number, string>();
    const batches: number[][] = [];
    let running = 0;
    let maxRunning = 0;
    // every batch stays open until the test has submitted everything
    let release: () => void = () => {};
    const submitted = new Promise<void>((r) => {
      release = r;
    });
    const run = async (items: number[]) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      batches.push(items);
      await submitted;
      running--;
      return items.join(',');
    };
    const first = batcher.submit('tag', 1, run);
    const rest = [2, 3, 4].map((i) => batcher.submit('tag', i, run));
    const other = batcher.submit('other', 9, run);
    release();
    expect(await first).toBe('1');
    expect(await Promise.all(rest)).toEqual(['2,3,4', '2,3,4', '2,3,4']);
    expect(await other).toBe('9');
    expect(batches).toEqual([[1], [9], [2, 3, 4]]);
    expect(maxRunning).toBe(2); // 'tag' and 'other' in parallel, never two for one key
    expect(batcher.activeKeys).toBe(0);
  });

  it('rejects every member of a failed batch and keeps serving the key', async () => {
    const batcher = new KeyedBatcher<number, number>();
    const fail = async () => {
      throw new Error('boom');
    };
    await expect(batcher.submit('k', 1, fail)).rejects.toThrow('boom');
    expect(await batcher.submit('k', 2, async (items) => items[0])).toBe(2);
  });
});
