import { describe, expect, it } from 'vitest';
import { AdaptiveLimit } from '../../../src/queue/adaptive-limit.ts';

describe('AdaptiveLimit', () => {
  it('grows towards max while attempts take as long as usual', () => {
    const limit = new AdaptiveLimit({ min: 1, max: 32, initial: 4 });
    for (let i = 0; i < 200; i++) limit.sample(500 + (i % 3) * 20);
    expect(limit.current).toBe(32);
  });

  it('shrinks when attempts start taking much longer (queueing), and grows back after', () => {
    const limit = new AdaptiveLimit({ min: 1, max: 32, initial: 4 });
    for (let i = 0; i < 300; i++) limit.sample(400);
    expect(limit.current).toBe(32);
    for (let i = 0; i < 20; i++) limit.sample(2000);
    const shrunk = limit.current;
    expect(shrunk).toBeLessThan(16);
    for (let i = 0; i < 200; i++) limit.sample(400);
    expect(limit.current).toBeGreaterThan(shrunk);
  });

  it('never goes below min, however slow attempts get', () => {
    const limit = new AdaptiveLimit({ min: 2, max: 32, initial: 16 });
    for (let i = 0; i < 10; i++) limit.sample(300);
    for (let i = 0; i < 50; i++) limit.sample(300 * 2 ** Math.min(i, 20));
    expect(limit.current).toBeGreaterThanOrEqual(2);
    expect(limit.current).toBeLessThan(8);
  });
});
