import { describe, expect, it } from 'vitest';
import { cpuBusySampler } from '../../../src/controller/index.ts';

/** A /proc and /sys that the test advances: the cpu line's fields, and optionally a cgroup v2 quota. */
function fakeSystem() {
  const state = {
    // user nice system idle iowait irq softirq steal
    cpu: [0, 0, 0, 0, 0, 0, 0, 0],
    quota: undefined as string | undefined,
    usageUsec: 0,
  };
  const read = (path: string) => {
    if (path === '/proc/stat') return `cpu  ${state.cpu.join(' ')} 0 0\ncpu0 1 2 3\n`;
    if (path === '/sys/fs/cgroup/cpu.max' && state.quota) return `${state.quota}\n`;
    if (path === '/sys/fs/cgroup/cpu.stat' && state.quota)
      return `usage_usec ${state.usageUsec}\nuser_usec 0\n`;
    throw Object.assign(new Error(`ENOENT ${path}`), { code: 'ENOENT' });
  };
  return { state, read };
}

describe('cpuBusySampler', () => {
  it('counts user, system, irq, softirq and steal as busy; idle, iowait and niced time as headroom', () => {
    const { state, read } = fakeSystem();
    const sample = cpuBusySampler(read, () => 0);
    // 100 ticks: 30 user, 20 nice, 10 system, 30 idle, 5 iowait, 2 irq, 2 softirq, 1 steal
    state.cpu = [30, 20, 10, 30, 5, 2, 2, 1];
    expect(sample()).toBeCloseTo(0.45, 5);
    // nothing happened since: no answer rather than a made-up one
    expect(sample()).toBeUndefined();
  });

  it('takes the busier of the machine and our cgroup v2 quota', () => {
    const { state, read } = fakeSystem();
    state.quota = '50000 100000'; // half a core
    let now = 0;
    const sample = cpuBusySampler(read, () => now);
    state.cpu = [10, 0, 0, 90, 0, 0, 0, 0]; // machine 10% busy
    state.usageUsec = 450_000; // 450 ms of CPU in 1 s on a 0.5-core quota: 90%
    now = 1000;
    expect(sample()).toBeCloseTo(0.9, 5);
  });

  it('answers undefined where neither can be read', () => {
    const sample = cpuBusySampler(() => {
      throw new Error('no /proc here');
    });
    expect(sample()).toBeUndefined();
  });

  it('reads a no-quota cgroup ("max") as the machine alone', () => {
    const { state, read } = fakeSystem();
    state.quota = 'max 100000';
    const sample = cpuBusySampler(read, () => 0);
    state.cpu = [50, 0, 0, 50, 0, 0, 0, 0];
    expect(sample()).toBeCloseTo(0.5, 5);
  });
});
