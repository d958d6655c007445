import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../../src/observability/metrics.ts';
import { metricsDoc, withMetricsDoc } from '../../../src/observability/metrics-doc.ts';

describe('the metrics table', () => {
  it('is what docs/metrics.md shows (run npm run docs:metrics after changing a metric)', () => {
    const doc = readFileSync(new URL('../../../docs/metrics.md', import.meta.url), 'utf8');
    expect(withMetricsDoc(doc)).toBe(doc);
  });

  it('names every registered metric, with its labels', () => {
    const doc = metricsDoc();
    for (const m of createMetrics().registry.getMetricsAsArray()) expect(doc).toContain(`\`${m.name}\``);
    expect(doc).toContain('| `provenance_observer_queue_lane_depth` | gauge | `lane` |');
    expect(doc).toContain('| `watcher_taskrun_signing_failures_total` | counter | `error_type` |');
  });
});
