import { afterEach, describe, expect, it, vi } from 'vitest';
import { TokenBucket } from '../../../src/kube/index.ts';

describe('TokenBucket (kube-api-qps / kube-api-burst)', () => {
  afterEach(() => vi.useRealTimers());

  it('lets `burst` requests go at once, then `qps` per second in arrival order', async () => {
    vi.useFakeTimers();
    let now = 0;
    const bucket = new TokenBucket({ qps: 10, burst: 3, now: () => now });
    const order: number[] = [];
    const takes = Array.from({ length: 6 }, (_, i) => bucket.take().then(() => order.push(i)));
    await Promise.resolve();
    await Promise.resolve();
    expect(order).toEqual([0, 1, 2]);
    expect(bucket.waiting).toBe(3);
    now += 100;
    await vi.advanceTimersByTimeAsync(100);
    expect(order).toEqual([0, 1, 2, 3]);
    now += 200;
    await vi.advanceTimersByTimeAsync(200);
    await Promise.all(takes);
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('refills up to burst only', async () => {
    let now = 0;
    const bucket = new TokenBucket({ qps: 100, burst: 2, now: () => now });
    now += 60_000;
    await bucket.take();
    await bucket.take();
    expect(bucket.waiting).toBe(0);
    void bucket.take();
    expect(bucket.waiting).toBe(1);
  });

  it('gives a freed token to a waiting live request before backlog requests that waited longer', async () => {
    vi.useFakeTimers();
    let now = 0;
    const bucket = new TokenBucket({ qps: 10, burst: 1, now: () => now });
    const order: string[] = [];
    await bucket.take('backlog');
    const backlog = bucket.take('backlog').then(() => order.push('backlog'));
    const live = bucket.take('live').then(() => order.push('live'));
    now += 100;
    await vi.advanceTimersByTimeAsync(100);
    expect(order).toEqual(['live']);
    now += 100;
    await vi.advanceTimersByTimeAsync(100);
    await Promise.all([backlog, live]);
    expect(order).toEqual(['live', 'backlog']);
  });
});
