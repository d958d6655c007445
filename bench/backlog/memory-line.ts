/** One sample of a gauge in Prometheus text (`name{labels} value`), or undefined. */
function gauge(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

const mib = (bytes: number | undefined) => (bytes === undefined ? 'n/a' : (bytes / 1048576).toFixed(1));

/**
 * What the observer's resident memory holds, from its own metrics (prom-client's default
 * collectors): RSS, the V8 heap reserved and in use, each heap space's reservation, and memory
 * outside the heap that V8 knows of (Buffers, SQLite's and OpenSSL's are not in it). The rest of
 * RSS is code, stacks, and native allocations (the allocator's arenas).
 */
export function memoryLine(text: string, prefix = 'provenance_observer_'): string {
  const rss = gauge(text, `${prefix}process_resident_memory_bytes`);
  const heapTotal = gauge(text, `${prefix}nodejs_heap_size_total_bytes`);
  const heapUsed = gauge(text, `${prefix}nodejs_heap_size_used_bytes`);
  const external = gauge(text, `${prefix}nodejs_external_memory_bytes`);
  const spaces = ['new', 'old', 'code', 'large_object']
    .map(
      (space) =>
        `${space} ${mib(gauge(text, `${prefix}nodejs_heap_space_size_total_bytes`, `space="${space}"`))}`,
    )
    .join(', ');
  const rest = rss !== undefined && heapTotal !== undefined ? rss - heapTotal - (external ?? 0) : undefined;
  return `RSS ${mib(rss)} MiB: V8 heap ${mib(heapTotal)} reserved (${mib(heapUsed)} in use; ${spaces}), external ${mib(external)}, the rest ${mib(rest)} (code, stacks, native allocations)`;
}
