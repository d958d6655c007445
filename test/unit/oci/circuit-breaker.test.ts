import { describe, expect, it } from 'vitest';
import { CircuitBreakers, type CircuitState } from '../../../src/oci/index.ts';

describe('CircuitBreakers', () => {
  it('opens after N consecutive failures, fails fast for the cool-down, probes once, recovers on success', () => {
    let now = 0;
    const counts: Record<CircuitState, number>[] = [];
    const b = new CircuitBreakers({
      failureThreshold: 3,
      coolDownMs: 1000,
      now: () => now,
      onChange: (c) => counts.push(c),
    });
    for (let i = 0; i < 2; i++) b.acquire('r.test')?.failure();
    b.acquire('r.test')?.success(); // a success resets the count
    for (let i = 0; i < 3; i++) b.acquire('r.test')?.failure();
    expect(b.state('r.test')).toBe('open');
    expect(b.acquire('r.test')).toBeUndefined();
    expect(b.acquire('other.test')).toBeDefined(); // per host
    now = 999;
    expect(b.acquire('r.test')).toBeUndefined();
    now = 1000;
    const probe = b.acquire('r.test');
    expect(probe).toBeDefined();
    expect(b.state('r.test')).toBe('half_open');
    expect(b.acquire('r.test')).toBeUndefined(); // one probe at a time
    probe?.success();
    expect(b.state('r.test')).toBe('closed');
    expect(b.acquire('r.test')).toBeDefined();
    expect(counts.at(-1)).toEqual({ closed: 1, open: 0, half_open: 0 });
    expect(counts.some((c) => c.open === 1)).toBe(true);
  });

  it('a failed probe opens the circuit for another cool-down; a ticket reports once', () => {
    let now = 0;
    const b = new CircuitBreakers({ failureThreshold: 1, coolDownMs: 100, now: () => now });
    const t = b.acquire('h');
    t?.failure();
    t?.success(); // ignored: already reported
    expect(b.state('h')).toBe('open');
    now = 100;
    b.acquire('h')?.failure();
    expect(b.state('h')).toBe('open');
    now = 150;
    expect(b.acquire('h')).toBeUndefined();
    now = 200;
    expect(b.acquire('h')).toBeDefined();
  });

  it('tracks a bounded number of hosts, forgetting closed ones before open ones', () => {
    const c = new CircuitBreakers({ failureThreshold: 2, maxHosts: 2 });
    c.acquire('open')?.failure();
    c.acquire('open')?.failure();
    c.acquire('x')?.failure();
    c.acquire('y')?.failure(); // evicts x (closed, one failure), keeps the open one
    expect(c.state('open')).toBe('open');
    c.acquire('x')?.failure(); // x starts again from zero: still closed
    expect(c.state('x')).toBe('closed');
  });

  it('tells when a host may next be called: end of the cool-down, a short wait while a probe is out', () => {
    let now = 0;
    const b = new CircuitBreakers({ failureThreshold: 2, coolDownMs: 30_000, now: () => now });
    b.acquire('h')?.failure();
    expect(b.nextProbeAt('h')).toBeUndefined(); // closed
    now = 100;
    b.acquire('h')?.failure();
    expect(b.nextProbeAt('h')).toBe(30_100);
    now = 30_100;
    const probe = b.acquire('h');
    expect(b.nextProbeAt('h')).toBe(35_100);
    // a probe cancelled by its caller gives no verdict and frees the slot for the next caller
    probe?.abandon();
    expect(b.state('h')).toBe('half_open');
    const next = b.acquire('h');
    expect(next).toBeDefined();
    next?.success();
    expect(b.nextProbeAt('h')).toBeUndefined();
  });
});
