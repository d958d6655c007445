import { readdirSync, readFileSync } from 'node:fs';

const CLOCK_TICKS = 100; // USER_HZ on Linux: /proc/<pid>/stat times are in 1/100 s

interface Stat {
  ppid: number;
  /** user + system, own and of reaped children, ms */
  ms: number;
}

function stat(pid: number): Stat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // fields after the name: state ppid … utime(11) stime(12) cutime(13) cstime(14)
    const ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    return { ppid: Number(f[1]), ms: (ticks * 1000) / CLOCK_TICKS };
  } catch {
    return undefined; // gone between the listing and the read
  }
}

/**
 * CPU milliseconds of a process and every descendant alive now, plus what its reaped children used
 * (cutime/cstime): PostgreSQL's work is in its backends, one process per connection, which exit
 * when the observers close their pools — their CPU then moves into the postmaster's cutime, so a
 * difference of two readings counts it either way.
 */
export function treeCpuMs(root: number): number {
  const stats = new Map<number, Stat>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const s = stat(pid);
    if (s) stats.set(pid, s);
  }
  const children = new Map<number, number[]>();
  for (const [pid, s] of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), pid]);
  let ms = 0;
  const todo = [root];
  while (todo.length) {
    const pid = todo.pop() as number;
    ms += stats.get(pid)?.ms ?? 0;
    todo.push(...(children.get(pid) ?? []));
  }
  return ms;
}

/** CPU per named server (its whole process tree) between construction and `read`. */
export class TreeCpuMeter {
  readonly #pids: Record<string, number>;
  readonly #start: Record<string, number>;

  constructor(pids: Record<string, number>) {
    this.#pids = pids;
    this.#start = this.#now();
  }

  read(): Record<string, number> {
    return Object.fromEntries(Object.entries(this.#now()).map(([n, ms]) => [n, ms - (this.#start[n] ?? 0)]));
  }

  #now(): Record<string, number> {
    return Object.fromEntries(Object.entries(this.#pids).map(([n, pid]) => [n, treeCpuMs(pid)]));
  }
}
