import { describe, expect, it } from 'vitest';
import { HostSlots } from '../../../src/oci/index.ts';

describe('HostSlots', () => {
  it('holds at most perHost requests per host in flight; a freed slot goes to live work first', async () => {
    const slots = new HostSlots({ perHost: 2 });
    const a = await slots.acquire('r.example');
    const b = await slots.acquire('r.example');
    const other = await slots.acquire('s.example');
    expect(slots.inFlight('r.example')).toBe(2);
    const order: string[] = [];
    const backlog = slots.acquire('r.example', 'backlog').then((release) => {
      order.push('backlog');
      return release;
    });
    const live = slots.acquire('r.example', 'live').then((release) => {
      order.push('live');
      return release;
    });
    await Promise.resolve();
    expect(order).toEqual([]);
    a();
    a(); // a second release of the same slot frees nothing more
    (await live)();
    b();
    (await backlog)();
    expect(order).toEqual(['live', 'backlog']);
    expect(slots.inFlight('r.example')).toBe(0);
    other();
  });

  it('wraps a fetch: the lane comes with each request (RegistryInit.lane), live served first', async () => {
    const slots = new HostSlots({ perHost: 1 });
    const gates: (() => void)[] = [];
    const order: string[] = [];
    const fetch = slots.wrap(async (url) => {
      order.push(url.pathname);
      await new Promise<void>((r) => gates.push(r));
      return new Response(null, { status: 204 });
    });
    const first = fetch(new URL('https://r.example/first'), { lane: 'backlog' });
    const backlog = fetch(new URL('https://r.example/backlog'), { lane: 'backlog' });
    const live = fetch(new URL('https://r.example/live'), { lane: 'live' });
    await expect.poll(() => order.length).toBe(1);
    gates.shift()?.();
    await first;
    await expect.poll(() => order.length).toBe(2);
    gates.shift()?.();
    await live;
    await expect.poll(() => order.length).toBe(3);
    gates.shift()?.();
    await backlog;
    expect(order).toEqual(['/first', '/live', '/backlog']);
  });
});
