import { describe, expect, it } from 'vitest';
import { heapMemoryBudgetBytes, MemoryBudget } from '../../../src/cache/index.ts';

const MiB = 1024 * 1024;

describe('MemoryBudget: the reads in flight never hold more than the budget', () => {
  it('a reservation that does not fit waits, is counted, and is granted in order when bytes are released', async () => {
    const waits: string[] = [];
    const budget = new MemoryBudget({ totalBytes: 10 * MiB, onWait: (r) => waits.push(r) });
    const a = await budget.reserve(6 * MiB, 'registry');
    const b = await budget.reserve(4 * MiB, 'registry');
    expect(budget.heldBytes).toBe(10 * MiB);
    const granted: string[] = [];
    const c = budget.reserve(5 * MiB, 'registry').then((r) => {
      granted.push('c');
      return r;
    });
    // a small one behind a waiting large one does not overtake it (the large one is not starved)
    const d = budget.reserve(1, 'kube').then((r) => {
      granted.push('d');
      return r;
    });
    await new Promise((r) => setImmediate(r));
    expect(granted).toEqual([]);
    expect(waits).toEqual(['registry', 'kube']);
    a.release();
    a.release(); // twice is once
    await Promise.all([c, d]);
    expect(granted).toEqual(['c', 'd']);
    expect(budget.heldBytes).toBe(9 * MiB + 1);
    b.release();
    (await c).release();
    (await d).release();
    expect(budget.heldBytes).toBe(0);
  });

  it('a reservation larger than the budget is cut to it; an aborted wait rejects and frees its place', async () => {
    const budget = new MemoryBudget({ totalBytes: 4 * MiB });
    const whole = await budget.reserve(64 * MiB, 'registry');
    expect(whole.bytes).toBe(4 * MiB);
    const abort = new AbortController();
    const waiting = budget.reserve(1 * MiB, 'registry', abort.signal);
    const behind = budget.reserve(1 * MiB, 'registry');
    abort.abort(new Error('deadline'));
    await expect(waiting).rejects.toThrow('deadline');
    whole.release();
    expect((await behind).bytes).toBe(1 * MiB);
    expect(budget.waiting).toBe(0);
  });

  it('tryReserve() grants only what fits now with nobody waiting, and never queues', async () => {
    const budget = new MemoryBudget({ totalBytes: 4 * MiB });
    const a = budget.tryReserve(3 * MiB);
    expect(a?.bytes).toBe(3 * MiB);
    expect(budget.tryReserve(2 * MiB)).toBeUndefined();
    const queued = budget.reserve(2 * MiB, 'registry');
    expect(budget.tryReserve(1)).toBeUndefined(); // fits, but someone waits: no overtaking
    a?.release();
    (await queued).release();
    expect(budget.waiting).toBe(0);
  });

  it('grow() extends a reservation when it fits, else releases it and queues for the whole (never holds while waiting)', async () => {
    const budget = new MemoryBudget({ totalBytes: 4 * MiB });
    let held = await budget.reserve(1 * MiB, 'kube');
    held = await budget.grow(held, 2 * MiB, 'kube');
    expect([held.bytes, budget.heldBytes]).toEqual([2 * MiB, 2 * MiB]);
    const other = await budget.reserve(2 * MiB, 'registry');
    const growing = budget.grow(held, 3 * MiB, 'kube');
    await new Promise((r) => setImmediate(r));
    expect(budget.heldBytes).toBe(2 * MiB); // its own 2 MiB released while it waits
    other.release();
    held = await growing;
    expect([held.bytes, budget.heldBytes]).toEqual([3 * MiB, 3 * MiB]);
    held.release();
    expect(budget.heldBytes).toBe(0);
  });

  it('within() holds the bytes while the work runs, also when it throws', async () => {
    const budget = new MemoryBudget({ totalBytes: MiB });
    await expect(
      budget.within(MiB, 'kube', async () => {
        expect(budget.heldBytes).toBe(MiB);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(budget.heldBytes).toBe(0);
  });

  it("is a quarter of V8's heap limit, never under 24 MiB", () => {
    expect(heapMemoryBudgetBytes(140 * MiB)).toBe(35 * MiB);
    expect(heapMemoryBudgetBytes(32 * MiB)).toBe(24 * MiB);
  });
});
