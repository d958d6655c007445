import { describe, expect, it } from 'vitest';
import { BacklogConcurrency } from '../../../src/controller/backlog-concurrency.ts';

describe('BacklogConcurrency', () => {
  it('follows CPU headroom where the CPU can be read, whatever attempts take', () => {
    let busy = 0.3;
    const c = new BacklogConcurrency({ max: 128, liveTargetMs: 800, busyShare: () => busy });
    expect(c.current).toBe(4);
    for (let i = 0; i < 10; i++) {
      // backlog attempts slow down as the machine fills (settle waits grow): no reason to shrink
      c.attemptEnded(1000 + i * 500, 'backlog', true);
      c.tick(true);
    }
    expect(c.follows).toBe('cpu');
    expect(c.current).toBeGreaterThan(20);
    busy = 1;
    const before = c.current;
    c.tick(true);
    expect(c.current).toBeLessThan(before);
  });

  it('stays under the cap that slow fresh runs set', () => {
    const c = new BacklogConcurrency({ max: 128, liveTargetMs: 800, busyShare: () => 0.2 });
    for (let i = 0; i < 20; i++) c.tick(true);
    const open = c.current;
    expect(open).toBeGreaterThan(50);
    for (let i = 0; i < 5; i++) c.attemptEnded(1500, 'live', true);
    expect(c.current).toBeLessThan(open / 4);
  });

  it('follows attempt time where the CPU cannot be read', () => {
    const c = new BacklogConcurrency({ max: 128, liveTargetMs: 800, busyShare: () => undefined });
    c.tick(true);
    expect(c.follows).toBe('attempt_time');
    for (let i = 0; i < 50; i++) c.attemptEnded(100, 'backlog', true);
    expect(c.current).toBeGreaterThan(4);
  });
});
