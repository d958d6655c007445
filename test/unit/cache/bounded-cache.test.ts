import { describe, expect, it } from 'vitest';
import { BoundedCache } from '../../../src/cache/index.ts';

describe('BoundedCache', () => {
  it('evicts the least recently used entry beyond maxEntries', () => {
    const cache = new BoundedCache<number>({ ttlMs: 1000, maxEntries: 2, now: () => 0 });
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1); // a is now the most recent
    cache.set('c', 3);
    expect([cache.has('a'), cache.has('b'), cache.has('c')]).toEqual([true, false, true]);
    expect(cache.size).toBe(2);
  });

  it('expires entries and drops them on read', () => {
    let t = 0;
    const cache = new BoundedCache<string>({ ttlMs: 100, maxEntries: 10, now: () => t });
    cache.set('k', 'v');
    t = 99;
    expect(cache.get('k')).toBe('v');
    t = 100;
    expect(cache.get('k')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('takes a time to live per entry, and without one keeps entries until evicted', () => {
    let t = 0;
    const cache = new BoundedCache<string>({ maxEntries: 2, now: () => t });
    cache.set('short', 's', 10);
    cache.set('forever', 'f');
    t = 1e12;
    expect(cache.get('short')).toBeUndefined();
    expect(cache.get('forever')).toBe('f');
  });

  it('replaces a value, deletes, and keeps at least one entry', () => {
    const cache = new BoundedCache<number>({ maxEntries: 0 });
    cache.set('a', 1);
    cache.set('a', 2);
    expect(cache.get('a')).toBe(2);
    cache.set('b', 3);
    expect([cache.has('a'), cache.get('b')]).toEqual([false, 3]);
    cache.delete('b');
    expect(cache.size).toBe(0);
  });
});
