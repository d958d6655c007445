import { describe, expect, it } from 'vitest';
import { BacklogConcurrency } from '../../../src/controller/backlog-concurrency.ts';

describe('BacklogConcurrency', () => {
  it('follows CPU headroom where the CPU can be read, whatever attempts take', () => {
    let busy = 0.3;
    const c = new BacklogConcurrency({ max: 128, liveTargetMs: 800, busyShare: () => busy });
    expect(c.current).toBe(4);
    for (let i = 0; i < 30; i++) {
      // backlog attempts slow down as the machine fills (settle waits grow): no reason to shrink;
      // more of them finish a second the more run at once: reason to grow
      for (let n = c.current; n > 0; n--) c.attemptEnded(1000 + i * 500, 'backlog', true);
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
    for (let i = 0; i < 60; i++) c.tick(true);
    const open = c.current;
    expect(open).toBeGreaterThan(50);
    for (let i = 0; i < 5; i++) c.attemptEnded(1500, 'live', true);
    expect(c.current).toBeLessThan(open / 4);
  });

  it('holds its starting limit until the first tick where the CPU can be read, however fast attempts end', () => {
    const c = new BacklogConcurrency({ max: 128, liveTargetMs: 800, busyShare: () => 0.2 });
    // the attempts of a first list: fast ones would grow an attempt-time limit
    for (let i = 0; i < 50; i++) c.attemptEnded(100, 'backlog', true);
    expect(c.follows).toBe('cpu');
    expect(c.current).toBe(4);
  });

  it('follows attempt time where the CPU cannot be read', () => {
    const c = new BacklogConcurrency({ max: 128, liveTargetMs: 800, busyShare: () => undefined });
    c.tick(true);
    expect(c.follows).toBe('attempt_time');
    for (let i = 0; i < 50; i++) c.attemptEnded(100, 'backlog', true);
    expect(c.current).toBeGreaterThan(4);
  });

  it('stops growing where more backlog attempts in flight finish no more of them a second', () => {
    const c = new BacklogConcurrency({ max: 128, liveTargetMs: 800, busyShare: () => 0.3 });
    for (let i = 0; i < 120; i++) {
      for (let n = Math.min(c.current, 12); n > 0; n--) c.attemptEnded(1000, 'backlog', true);
      c.tick(true);
    }
    expect(c.current).toBeGreaterThanOrEqual(9);
    expect(c.current).toBeLessThan(30);
  });
});
