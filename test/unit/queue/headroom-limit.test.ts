import { describe, expect, it } from 'vitest';
import { HeadroomLimit } from '../../../src/queue/index.ts';

describe('HeadroomLimit', () => {
  it('grows while it binds and the CPU has room, faster the more room there is', () => {
    const idle = new HeadroomLimit({ max: 1000, initial: 10 });
    const busy = new HeadroomLimit({ max: 1000, initial: 10 });
    idle.sample(0.1, true);
    busy.sample(0.8, true);
    expect(idle.current).toBeGreaterThan(busy.current);
    expect(busy.current).toBeGreaterThan(10);
  });

  it('holds while it does not bind: an unused limit says nothing about the machine', () => {
    const limit = new HeadroomLimit({ max: 1000, initial: 10 });
    for (let i = 0; i < 50; i++) limit.sample(0.05, false);
    expect(limit.current).toBe(10);
  });

  it('holds inside the band around the target', () => {
    const limit = new HeadroomLimit({ max: 1000, initial: 40 });
    for (const busy of [0.9, 0.93, 0.95, 0.96]) limit.sample(busy, true);
    expect(limit.current).toBe(40);
  });

  it('shrinks while the CPU is too busy, whether it binds or not, down to min', () => {
    const limit = new HeadroomLimit({ min: 2, max: 1000, initial: 100 });
    limit.sample(1, false);
    expect(limit.current).toBe(85);
    for (let i = 0; i < 100; i++) limit.sample(0.99, true);
    expect(limit.current).toBe(2);
  });

  it('never passes max, and settles where a machine whose busy share follows the limit reaches the target', () => {
    const capped = new HeadroomLimit({ max: 50, initial: 10 });
    for (let i = 0; i < 100; i++) capped.sample(0, true);
    expect(capped.current).toBe(50);
    // a model machine: each attempt in flight keeps 1.5% of the CPU busy
    const limit = new HeadroomLimit({ max: 1000, initial: 4 });
    for (let i = 0; i < 200; i++) limit.sample(Math.min(1, limit.current * 0.015), true);
    const busy = limit.current * 0.015;
    expect(busy).toBeGreaterThanOrEqual(0.9);
    expect(busy).toBeLessThanOrEqual(0.96);
  });
});
