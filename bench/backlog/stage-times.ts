/**
 * Where an attempt's time goes, from the observer's own histograms: the seconds summed and the
 * observations counted of `attest_duration_seconds` (dequeue to marked) and
 * `stage_duration_seconds` by stage and backend, keyed `attempt` and `<stage> <backend>`.
 */
export function stageTotals(text: string): Record<string, { sum: number; count: number }> {
  const totals: Record<string, { sum: number; count: number }> = {};
  for (const line of text.split('\n')) {
    const m = /^\w+_(attest|stage)_duration_seconds_(sum|count)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...m[3].matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    const key = m[1] === 'attest' ? 'attempt' : `${labels.stage} ${labels.backend || '-'}`.trim();
    const total = totals[key] ?? { sum: 0, count: 0 };
    total[m[2] as 'sum' | 'count'] += Number(m[4]);
    totals[key] = total;
  }
  return totals;
}

/** Mean milliseconds per observation of each key between two readings, largest first. */
export function stageMeansLine(
  before: Record<string, { sum: number; count: number }>,
  after: Record<string, { sum: number; count: number }>,
): string {
  return Object.entries(after)
    .map(([key, a]) => {
      const b = before[key] ?? { sum: 0, count: 0 };
      const count = a.count - b.count;
      return { key, count, ms: count > 0 ? ((a.sum - b.sum) * 1000) / count : 0 };
    })
    .filter((s) => s.count > 0)
    .sort((x, y) => y.ms - x.ms)
    .map((s) => `${s.key} ${s.ms.toFixed(0)} ms (${s.count})`)
    .join(', ');
}
