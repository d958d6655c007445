/**
 * Rewrites the generated part of docs/metrics.md from the metrics the service registers
 * (src/observability/metrics.ts). test/unit/observability/metrics-doc.test.ts fails when the
 * committed doc differs from what this writes.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { withMetricsDoc } from '../src/observability/metrics-doc.ts';

const path = new URL('../docs/metrics.md', import.meta.url);
const before = readFileSync(path, 'utf8');
const after = withMetricsDoc(before);
if (after !== before) writeFileSync(path, after);
console.log(after === before ? 'docs/metrics.md is current' : 'docs/metrics.md updated');
