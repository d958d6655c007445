import { describe, expect, it } from 'vitest';
import type { AttemptContext } from '../../../src/model/index.ts';
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

  it('never puts submissions of two groups (credentials) in one batch, and one group failing fails only its own', async () => {
    const batcher = new KeyedBatcher<string, string>();
    const batches: { as: string; items: string[] }[] = [];
    let release: () => void = () => {};
    const submitted = new Promise<void>((r) => {
      release = r;
    });
    let running = 0;
    let maxRunning = 0;
    const runAs = (as: string) => async (items: string[]) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      batches.push({ as, items });
      await submitted;
      running--;
      if (as === 'tenant-a') throw new Error('403 denied for tenant-a');
      return `${as}:${items.join(',')}`;
    };
    const a = { name: 'tenant-a credentials' };
    const b = { name: 'observer credentials' };
    const first = batcher.submit('tag', 'a1', runAs('tenant-a'), { group: a });
    const later = [
      batcher.submit('tag', 'b1', runAs('observer'), { group: b }),
      batcher.submit('tag', 'a2', runAs('tenant-a'), { group: a }),
      batcher.submit('tag', 'b2', runAs('observer'), { group: b }),
    ];
    release();
    await expect(first).rejects.toThrow('tenant-a');
    const [b1, a2, b2] = await Promise.allSettled(later);
    expect(b1).toEqual({ status: 'fulfilled', value: 'observer:b1,b2' });
    expect(b2).toEqual({ status: 'fulfilled', value: 'observer:b1,b2' });
    expect(a2.status).toBe('rejected');
    expect(batches).toEqual([
      { as: 'tenant-a', items: ['a1'] },
      { as: 'observer', items: ['b1', 'b2'] },
      { as: 'tenant-a', items: ['a2'] },
    ]);
    expect(maxRunning).toBe(1); // groups of one key take turns: still one writer per tag
  });

  it("runs a batch in the live lane when any submitter is live, until every submitter's signal aborted", async () => {
    const batcher = new KeyedBatcher<string, AttemptContext>();
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const run = async (_items: string[], context: AttemptContext) => {
      await gate;
      return context;
    };
    const one = new AbortController();
    const two = new AbortController();
    void batcher.submit('tag', 'x', run);
    const backlog = batcher.submit('tag', 'y', run, { context: { lane: 'backlog', signal: one.signal } });
    void batcher.submit('tag', 'z', run, { context: { lane: 'live', signal: two.signal } });
    release();
    const context = await backlog;
    expect(context.lane).toBe('live');
    one.abort();
    expect(context.signal?.aborted).toBe(false);
    two.abort();
    expect(context.signal?.aborted).toBe(true);
  });
});
