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
