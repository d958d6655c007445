import { afterEach, describe, expect, it, vi } from 'vitest';
import { WorkQueue } from '../../../src/queue/work-queue.ts';

const q = () => new WorkQueue<string>((k) => k);

describe('WorkQueue', () => {
  it('hands out live keys before backlog keys', async () => {
    const queue = q();
    queue.add('old-1', 'backlog');
    queue.add('old-2', 'backlog');
    queue.add('fresh', 'live');
    expect(await queue.get()).toBe('fresh');
    expect(await queue.get()).toBe('old-1');
    expect(await queue.get()).toBe('old-2');
  });

  it('holds a key once, and a live add raises a backlog key', async () => {
    const queue = q();
    queue.add('a', 'backlog');
    queue.add('b', 'backlog');
    queue.add('a', 'backlog');
    queue.add('b', 'live');
    expect(queue.length).toBe(2);
    expect(await queue.get()).toBe('b');
  });

  it('never gives one key to two workers; an add while processing re-queues it after done', async () => {
    const queue = q();
    queue.add('a');
    const first = await queue.get();
    queue.add('a');
    expect(queue.length).toBe(0);
    let handedOut = false;
    const second = queue.get().then((k) => {
      handedOut = true;
      return k;
    });
    await Promise.resolve();
    expect(handedOut).toBe(false);
    queue.done(first as string);
    expect(await second).toBe('a');
  });

  it('wakes a waiting worker on add and releases waiters on shutdown', async () => {
    const queue = q();
    const waiting = queue.get();
    queue.add('x');
    expect(await waiting).toBe('x');
    const idle = queue.get();
    queue.shutDown();
    expect(await idle).toBeUndefined();
  });

  it('hands out nothing more once shut down, though keys still wait (a stopping controller ends its workers)', async () => {
    const queue = q();
    queue.add('a');
    queue.add('b');
    expect(await queue.get()).toBe('a');
    queue.shutDown();
    expect(await queue.get()).toBeUndefined();
  });

  describe('with fake timers', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('addAfter delays a key and a later addAfter replaces the timer', async () => {
      vi.useFakeTimers();
      const queue = q();
      queue.addAfter('k', 50);
      queue.addAfter('k', 5);
      expect(queue.delayed).toBe(1);
      vi.advanceTimersByTime(4);
      expect(queue.length).toBe(0);
      vi.advanceTimersByTime(1);
      expect(queue.length).toBe(1);
      expect(queue.delayed).toBe(0);
      expect(await queue.get()).toBe('k');
      queue.done('k');
      // the replaced 50 ms timer never fires
      vi.advanceTimersByTime(100);
      expect(queue.length).toBe(0);
    });

    it('a delayed key stays delayed when it is added meanwhile, also re-added by done() (no backoff short-cut)', async () => {
      vi.useFakeTimers();
      const queue = q();
      queue.add('k');
      const key = (await queue.get()) as string;
      queue.add('k'); // the watch echo of the observer's own patch, while the attempt runs
      queue.addAfter('k', 1000); // the attempt failed: back off
      queue.done(key);
      queue.add('k'); // another echo after the attempt
      expect(queue.length).toBe(0);
      vi.advanceTimersByTime(999);
      expect(queue.length).toBe(0);
      vi.advanceTimersByTime(1);
      expect(queue.length).toBe(1);
      expect(await queue.get()).toBe('k');
    });

    it('shutDown cancels delayed keys', () => {
      vi.useFakeTimers();
      const queue = q();
      queue.addAfter('k', 5);
      queue.shutDown();
      vi.advanceTimersByTime(10);
      expect(queue.length).toBe(0);
      expect(queue.delayed).toBe(0);
    });
  });
});

describe('WorkQueue backlog limit', () => {
  it('hands out at most backlogLimit backlog keys at once; live keys still go', async () => {
    let cap = 2;
    const queue = new WorkQueue<string>((k) => k, { backlogLimit: () => cap });
    for (const k of ['b1', 'b2', 'b3']) queue.add(k, 'backlog');
    expect(await queue.get()).toBe('b1');
    expect(await queue.get()).toBe('b2');
    expect(queue.backlogInProcess).toBe(2);
    let third: string | undefined;
    void queue.get().then((k) => {
      third = k;
    });
    await Promise.resolve();
    expect(third).toBeUndefined();
    queue.add('fresh', 'live');
    await Promise.resolve();
    expect(third).toBe('fresh');
    expect(queue.waitingIn('backlog')).toBe(1);
    cap = 3;
    const next = queue.get();
    queue.wake();
    expect(await next).toBe('b3');
    queue.done('b1');
    expect(queue.backlogInProcess).toBe(2);
  });
});

describe('WorkQueue live limit', () => {
  it('hands out at most liveLimit live keys at once, backlog keys beside them', async () => {
    const queue = new WorkQueue<string>((k) => k, { liveLimit: 1, backlogLimit: () => 1 });
    queue.add('l1', 'live');
    queue.add('l2', 'live');
    queue.add('b1', 'backlog');
    expect(await queue.get()).toBe('l1');
    expect(await queue.get()).toBe('b1');
    let next: string | undefined;
    void queue.get().then((k) => {
      next = k;
    });
    await Promise.resolve();
    expect(next).toBeUndefined();
    queue.done('l1');
    await Promise.resolve();
    expect(next).toBe('l2');
  });
});
