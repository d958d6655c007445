import { describe, expect, it } from 'vitest';
import { HeadroomLimit } from '../../../src/queue/index.ts';

/** one settling sample and one window of `n` samples at the same busy share */
const windowOf = (limit: HeadroomLimit, busy: number, binding = true, completed = 0, n = 4) => {
  for (let i = 0; i <= n; i++) limit.sample(busy, binding, completed);
};

/** A seeded Poisson draw (Knuth), so a noisy machine is the same machine on every run. */
function poisson(seed: number): (mean: number) => number {
  let state = seed >>> 0;
  const uniform = () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  return (mean) => {
    const floor = Math.exp(-mean);
    let k = 0;
    for (let p = uniform(); p > floor; p *= uniform()) k++;
    return k;
  };
}

/**
 * A model machine: each attempt in flight keeps `cpuPerAttempt` of the CPU busy and finishes
 * `ratePerAttempt` attempts a second, until `rateCeiling` (a bound other than the CPU) holds.
 */
function drive(
  limit: HeadroomLimit,
  seconds: number,
  cpuPerAttempt: number,
  rateCeiling = Infinity,
  count: (mean: number) => number = (mean) => mean,
) {
  for (let s = 0; s < seconds; s++) {
    const inFlight = limit.current;
    const rate = Math.min(inFlight * 0.8, rateCeiling);
    limit.sample(Math.min(1, inFlight * cpuPerAttempt), true, count(rate));
  }
}

describe('HeadroomLimit', () => {
  it('grows while it binds and the CPU has room, faster the more room there is', () => {
    const idle = new HeadroomLimit({ max: 1000, initial: 10 });
    const busy = new HeadroomLimit({ max: 1000, initial: 10 });
    windowOf(idle, 0.1);
    windowOf(busy, 0.8);
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
    for (const busy of [0.9, 0.93, 0.95, 0.96]) windowOf(limit, busy);
    expect(limit.current).toBe(40);
  });

  it('shrinks at once while the CPU is too busy, whether it binds or not, down to min', () => {
    const limit = new HeadroomLimit({ min: 2, max: 1000, initial: 100 });
    limit.sample(1, false);
    expect(limit.current).toBe(85);
    for (let i = 0; i < 100; i++) limit.sample(0.99, true);
    expect(limit.current).toBe(2);
  });

  it('never passes max, and settles where a machine whose busy share follows the limit reaches the target', () => {
    const capped = new HeadroomLimit({ max: 50, initial: 10 });
    drive(capped, 300, 0);
    expect(capped.current).toBe(50);
    const limit = new HeadroomLimit({ max: 1000, initial: 4 });
    drive(limit, 600, 0.015);
    const busy = limit.current * 0.015;
    expect(busy).toBeGreaterThanOrEqual(0.9);
    expect(busy).toBeLessThanOrEqual(0.96);
  });

  it('undoes a growth step that finished no more attempts a second, and holds there', () => {
    // throughput stops at 16 attempts/s (20 in flight) while the CPU still has room
    const limit = new HeadroomLimit({ max: 1000, initial: 4, holdWindows: 1000 });
    drive(limit, 600, 0.01, 16);
    expect(limit.holding).toBe(true);
    expect(limit.current).toBeGreaterThanOrEqual(16); // near the knee: 20 in flight
    expect(limit.current).toBeLessThan(40); // without the throughput check: the CPU target, 93
    const unchecked = new HeadroomLimit({ max: 1000, initial: 4, minGain: -1 });
    drive(unchecked, 600, 0.01, 16);
    expect(unchecked.current).toBeGreaterThan(85);
  });

  it('keeps steps that pay when completions are counted one by one (Poisson noise), and still finds the knee', () => {
    const seeds = Array.from({ length: 40 }, (_, i) => i + 1);
    // no bound but the CPU: one unlucky window must not hold a 1000-run drain's first minute low
    const ramped = seeds.filter((seed) => {
      const limit = new HeadroomLimit({ max: 1000, initial: 4 });
      drive(limit, 60, 0.015, Infinity, poisson(seed));
      return limit.current * 0.015 > 0.6;
    });
    expect(ramped.length).toBeGreaterThanOrEqual(30);
    // throughput stops at 16 attempts/s (20 in flight): most drains stop well short of the CPU target's 93
    const knees = seeds.map((seed) => {
      const limit = new HeadroomLimit({ max: 1000, initial: 4 });
      drive(limit, 600, 0.01, 16, poisson(seed));
      return limit.current;
    });
    expect(knees.filter((k) => k < 60).length).toBeGreaterThanOrEqual(15);
  });

  it('tries again after the hold, and grows when throughput follows again', () => {
    const limit = new HeadroomLimit({ max: 1000, initial: 4, holdWindows: 3 });
    drive(limit, 300, 0.01, 16);
    const held = limit.current;
    expect(held).toBeLessThan(40);
    drive(limit, 600, 0.01); // the other bound went away
    expect(limit.current).toBeGreaterThan(held * 2);
  });
});
