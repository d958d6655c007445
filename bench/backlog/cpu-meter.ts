import { readFileSync, statSync } from 'node:fs';
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

/** The machine's busy, iowait and total CPU ticks so far, all processes (the first line of /proc/stat). */
function machineTicks(): { busy: number; iowait: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already in user)
  const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - fields[3] - fields[4], iowait: fields[4], total };
}

/**
 * The share of the whole machine's CPU that was busy (any process) between start and read, and
 * the share idle with a disk request outstanding (iowait: a CPU with nothing to run while some
 * process waits for the disk).
 */
export class MachineBusyMeter {
  readonly #start = machineTicks();

  read(): { busy: number; iowait: number } {
    const now = machineTicks();
    const total = Math.max(1, now.total - this.#start.total);
    return { busy: (now.busy - this.#start.busy) / total, iowait: (now.iowait - this.#start.iowait) / total };
  }
}

/** What the disk did in a window: completed writes, cache flushes (fsyncs that reached it), busy share. */
export interface DiskActivity {
  device: string;
  writes: number;
  flushes: number;
  /** the share of the window the device had a request in flight (/proc/diskstats io_ticks) */
  busyShare: number;
}

/** The /proc/diskstats line of the block device holding `dir`, by its major:minor; undefined if none (tmpfs, overlay). */
function diskLine(dir: string): string[] | undefined {
  const dev = statSync(dir).dev;
  const major = Math.floor(dev / 256) & 0xfff;
  const minor = (dev & 0xff) | (Math.floor(dev / 4096) & ~0xff);
  return readFileSync('/proc/diskstats', 'utf8')
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .find((f) => Number(f[0]) === major && Number(f[1]) === minor);
}

/**
 * The disk under a directory (the environment's state: the registry's blobs, etcd's WAL, the
 * index), between start and read. Fields after the device name (Documentation/admin-guide/iostats.rst):
 * 5 writes completed, 10 io_ticks (ms), 16 flushes completed.
 */
export class DiskMeter {
  readonly #dir: string;
  readonly #start: { line?: string[]; at: number };

  constructor(dir: string) {
    this.#dir = dir;
    this.#start = { line: diskLine(dir), at: Date.now() };
  }

  read(): DiskActivity | undefined {
    const start = this.#start.line;
    const now = diskLine(this.#dir);
    if (!start || !now) return undefined;
    const delta = (field: number) => Number(now[field + 2] ?? 0) - Number(start[field + 2] ?? 0);
    return {
      device: now[2],
      writes: delta(5),
      flushes: delta(16),
      busyShare: delta(10) / Math.max(1, Date.now() - this.#start.at),
    };
  }
}
