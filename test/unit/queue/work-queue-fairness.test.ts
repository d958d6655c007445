import { describe, expect, it } from 'vitest';
import { WorkQueue } from '../../../src/queue/work-queue.ts';

/** Keys are "namespace/name"; the namespace is the fairness group. */
const q = (workers?: number, spare?: number) =>
  new WorkQueue<string>((k) => k, {
    group: (k) => k.split('/')[0] as string,
    ...(workers ? { workers } : {}),
    ...(spare ? { spare } : {}),
  });

describe('WorkQueue fairness between namespaces', () => {
  it('hands out keys round-robin across namespaces within a lane', async () => {
    const queue = q();
    for (const k of ['a/1', 'a/2', 'a/3', 'b/1', 'b/2', 'c/1']) queue.add(k);
    const order: string[] = [];
    for (let i = 0; i < 6; i++) order.push((await queue.get()) as string);
    expect(order).toEqual(['a/1', 'b/1', 'c/1', 'a/2', 'b/2', 'a/3']);
  });

  it('keeps live before backlog across namespaces', async () => {
    const queue = q();
    queue.add('a/old', 'backlog');
    queue.add('b/old', 'backlog');
    queue.add('a/fresh');
    queue.add('b/fresh');
    const order: string[] = [];
    for (let i = 0; i < 4; i++) order.push((await queue.get()) as string);
    expect(order).toEqual(['a/fresh', 'b/fresh', 'a/old', 'b/old']);
  });

  it('lets a namespace alone use every worker', async () => {
    const queue = q(4);
    for (let i = 0; i < 5; i++) queue.add(`a/${i}`);
    const taken = await Promise.all([queue.get(), queue.get(), queue.get(), queue.get()]);
    expect(taken).toEqual(['a/0', 'a/1', 'a/2', 'a/3']);
  });

  it('keeps a spare worker that a namespace alone never takes, for one arriving later', async () => {
    const queue = q(4, 1);
    for (let i = 0; i < 5; i++) queue.add(`a/${i}`);
    const taken = await Promise.all([queue.get(), queue.get(), queue.get()]);
    expect(taken).toEqual(['a/0', 'a/1', 'a/2']);
    const fourth = queue.get();
    queue.add('b/0');
    expect(await fourth).toBe('b/0');
    // A finishing one lets it take the next of its own
    queue.done('a/0');
    expect(await queue.get()).toBe('a/3');
  });

  it('holds a busy namespace to its share while another has keys waiting', async () => {
    const queue = q(4);
    for (let i = 0; i < 8; i++) queue.add(`a/${i}`);
    // A takes all four workers while alone
    const a = await Promise.all([queue.get(), queue.get(), queue.get(), queue.get()]);
    for (let i = 0; i < 3; i++) queue.add(`b/${i}`);
    // as A's workers free up, B gets them until A is down to its share (ceil(4 / 2) = 2)
    const next: string[] = [];
    for (const k of a) {
      queue.done(k as string);
      next.push((await queue.get()) as string);
    }
    expect(next).toEqual(['b/0', 'b/1', 'a/4', 'a/5']);
  });

  it('gives a freed worker to the namespace below its share, and wakes an idle worker for B', async () => {
    const queue = q(2);
    for (let i = 0; i < 3; i++) queue.add(`a/${i}`);
    queue.add('b/0');
    expect(await queue.get()).toBe('a/0');
    expect(await queue.get()).toBe('b/0');
    queue.add('b/1');
    // A holds 1 of 2 workers (its share); the next worker gets B's key, not A's
    queue.done('b/0');
    expect(await queue.get()).toBe('b/1');
    queue.done('a/0');
    expect(await queue.get()).toBe('a/1');
    // an idle worker is woken at once by B's next key
    queue.done('b/1');
    expect(await queue.get()).toBe('a/2');
    const waiting = queue.get();
    queue.add('b/2');
    expect(await waiting).toBe('b/2');
  });
});

/** A get() left pending for a turn; the returned function tells what it got so far. */
async function pendingGet(queue: WorkQueue<string>): Promise<() => string | undefined> {
  let got: string | undefined;
  void queue.get().then((k) => {
    got = k;
  });
  await new Promise((r) => setImmediate(r));
  return () => got;
}

describe('WorkQueue borrowing', () => {
  const borrowing = () =>
    new WorkQueue<string>((k) => k, {
      group: (k) => k.split('/')[0] as string,
      workers: 4,
      spare: 1,
      borrow: 4,
    });

  it('a namespace arriving while another holds more than its share borrows up to its share at once', async () => {
    const queue = borrowing();
    for (let i = 0; i < 6; i++) queue.add(`a/${i}`);
    // A alone takes workers - spare = 3 (attempts hanging on a slow registry)
    expect(await Promise.all([queue.get(), queue.get(), queue.get()])).toEqual(['a/0', 'a/1', 'a/2']);
    for (let i = 0; i < 4; i++) queue.add(`b/${i}`);
    // B: the spare worker, then one borrowed (its share is ceil(4 / 2) = 2); no more
    expect(await queue.get()).toBe('b/0');
    expect(await queue.get()).toBe('b/1');
    const third = await pendingGet(queue);
    expect(third()).toBeUndefined();
    // B at its share borrows no more; one of B's ending lets its next one start (A, above its share, never)
    queue.done('b/0');
    await new Promise((r) => setImmediate(r));
    expect(third()).toBe('b/2');
  });

  it('nobody borrows while every group is within its share', async () => {
    const queue = borrowing();
    for (let i = 0; i < 4; i++) queue.add(`a/${i}`);
    for (let i = 0; i < 4; i++) queue.add(`b/${i}`);
    const taken = await Promise.all([queue.get(), queue.get(), queue.get(), queue.get()]);
    expect(taken.sort()).toEqual(['a/0', 'a/1', 'b/0', 'b/1']);
    const fifth = await pendingGet(queue);
    expect(fifth()).toBeUndefined();
    queue.done('a/0');
    await new Promise((r) => setImmediate(r));
    expect(fifth()).toBe('a/2');
  });
});
