import { readFileSync } from 'node:fs';

type Read = (path: string) => string;
const readText: Read = (path) => readFileSync(path, 'utf8');

/**
 * How busy the CPU this process can use was since the last call, 0–1, for the backlog's headroom
 * limit; undefined where it cannot be read (not Linux), and then the limit follows attempt time.
 * Two views, the busier counts:
 * - the machine (the node, in a Pod): /proc/stat's first line; busy is user, system, irq,
 *   softirq and steal time; idle, iowait and `nice` time (processes at a lower priority, which the
 *   kernel gives way to ours) are headroom;
 * - our own CPU quota, where cgroup v2 sets one (cpu.max): usage_usec of cpu.stat over the quota.
 */
export function cpuBusySampler(read: Read = readText, now: () => number = () => performance.now()) {
  let last = readTicks(read);
  let lastUsage = quotaUsage(read);
  let lastAt = now();
  return (): number | undefined => {
    const ticks = readTicks(read);
    const usage = quotaUsage(read);
    const at = now();
    let busy: number | undefined;
    if (ticks && last && ticks.total > last.total)
      busy = (ticks.busy - last.busy) / (ticks.total - last.total);
    if (usage && lastUsage && at > lastAt) {
      const quota = (usage.usec - lastUsage.usec) / 1000 / ((at - lastAt) * usage.cores);
      busy = Math.max(busy ?? 0, quota);
    }
    last = ticks;
    lastUsage = usage;
    lastAt = at;
    return busy === undefined ? undefined : Math.min(1, Math.max(0, busy));
  };
}

function readTicks(read: Read): { busy: number; total: number } | undefined {
  try {
    const line = read('/proc/stat').split('\n')[0];
    if (!line.startsWith('cpu ')) return undefined;
    const [user, nice, system, idle, iowait, irq, softirq, steal = 0] = line
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    const busy = user + system + irq + softirq + steal;
    const total = busy + nice + idle + iowait;
    return Number.isFinite(total) ? { busy, total } : undefined;
  } catch {
    return undefined;
  }
}

/** Our cgroup's CPU use so far and its quota in cores; undefined without a cgroup v2 quota. */
function quotaUsage(read: Read): { usec: number; cores: number } | undefined {
  try {
    const [quota, period] = read('/sys/fs/cgroup/cpu.max').trim().split(/\s+/);
    if (quota === 'max') return undefined;
    const cores = Number(quota) / Number(period);
    const usec = Number(/^usage_usec (\d+)$/m.exec(read('/sys/fs/cgroup/cpu.stat'))?.[1]);
    return cores > 0 && Number.isFinite(usec) ? { usec, cores } : undefined;
  } catch {
    return undefined;
  }
}
