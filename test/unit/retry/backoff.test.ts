import { describe, expect, it } from 'vitest';
import { Backoff, delayFor } from '../../../src/retry/index.ts';

describe('backoff', () => {
  it('doubles from the base up to the cap, with equal jitter', () => {
    const o = { baseMs: 100, maxMs: 1000 };
    expect(delayFor(0, { ...o, random: () => 0 })).toBe(50);
    expect(delayFor(0, { ...o, random: () => 1 })).toBe(100);
    expect(delayFor(3, { ...o, random: () => 1 })).toBe(800);
    expect(delayFor(10, { ...o, random: () => 1 })).toBe(1000);
    expect(delayFor(10, { ...o, random: () => 0 })).toBe(500);
  });

  it('grows per call and resets', () => {
    const b = new Backoff({ baseMs: 10, maxMs: 1000, random: () => 1 });
    expect([b.next(), b.next(), b.next()]).toEqual([10, 20, 40]);
    b.reset();
    expect(b.next()).toBe(10);
  });

  it('counts attempts per key', () => {
    const b = new Backoff({ baseMs: 10, maxMs: 1000, random: () => 1 });
    expect([b.next('a'), b.next('a'), b.next('b'), b.next('a')]).toEqual([10, 20, 10, 40]);
    b.reset('a');
    expect([b.next('a'), b.next('b')]).toEqual([10, 20]);
  });
});
