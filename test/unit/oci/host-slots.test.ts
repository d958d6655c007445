import { describe, expect, it } from 'vitest';
import { HostSlots } from '../../../src/oci/index.ts';
import { withPriority } from '../../../src/priority.ts';

describe('HostSlots', () => {
  it('holds at most perHost requests per host in flight; a freed slot goes to live work first', async () => {
    const slots = new HostSlots({ perHost: 2 });
    const a = await slots.acquire('r.example');
    const b = await slots.acquire('r.example');
    const other = await slots.acquire('s.example');
    expect(slots.inFlight('r.example')).toBe(2);
    const order: string[] = [];
    const backlog = withPriority('backlog', () => slots.acquire('r.example')).then((release) => {
      order.push('backlog');
      return release;
    });
    const live = withPriority('live', () => slots.acquire('r.example')).then((release) => {
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
});
