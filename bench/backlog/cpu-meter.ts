import { readFileSync } from 'node:fs';
import { cpuMsOf } from '../../test/helpers/proc-cpu.ts';

/** This process's user + system CPU milliseconds. */
function selfCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/**
 * CPU used by named processes between start and read: the environment's servers by PID, and
 * `bench` for this process (its clients: the limit loops, fresh runs, the signed-tracker's watch).
 */
export class CpuMeter {
  readonly #pids: Record<string, number>;
  readonly #start: Record<string, number>;

  constructor(pids: Record<string, number>) {
    this.#pids = pids;
    this.#start = this.#now();
  }

  /** Milliseconds of CPU per process since the meter was made. */
  read(): Record<string, number> {
    const now = this.#now();
    return Object.fromEntries(Object.entries(now).map(([name, ms]) => [name, ms - (this.#start[name] ?? 0)]));
  }

  #now(): Record<string, number> {
    return {
      ...Object.fromEntries(Object.entries(this.#pids).map(([name, pid]) => [name, cpuMsOf(pid)])),
      bench: selfCpuMs(),
    };
  }
}

/** The machine's busy and total CPU ticks so far, all processes (the first line of /proc/stat). */
function machineTicks(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already in user)
  const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - fields[3] - fields[4], total };
}

/** The share of the whole machine's CPU that was busy (any process) between start and read. */
export class MachineBusyMeter {
  readonly #start = machineTicks();

  read(): number {
    const now = machineTicks();
    return (now.busy - this.#start.busy) / Math.max(1, now.total - this.#start.total);
  }
}
