import { withGeneratedSection } from '../generated-section.ts';
import { createMetrics } from './metrics.ts';

/** Markers in docs/metrics.md between which `npm run docs:metrics` writes metricsDoc(). */
export const METRICS_DOC_BEGIN =
  '<!-- metrics:begin (generated from src/observability/metrics.ts by npm run docs:metrics) -->';
export const METRICS_DOC_END = '<!-- metrics:end -->';

/** prom-client's default process and Node.js metrics, under our prefix: listed by name only. */
const RUNTIME = /^provenance_observer_(process|nodejs)_/;

/** Every metric the service registers, as a Markdown table, from the registry itself. */
export function metricsDoc(): string {
  const all = createMetrics().registry.getMetricsAsArray();
  const lines = ['| metric | type | labels | meaning |', '|---|---|---|---|'];
  for (const m of all.filter((m) => !RUNTIME.test(m.name))) {
    const labels = (m as { labelNames?: readonly string[] }).labelNames ?? [];
    const help = m.help.replaceAll('|', '\\|');
    lines.push(`| \`${m.name}\` | ${m.type} | ${labels.map((l) => `\`${l}\``).join(', ')} | ${help} |`);
  }
  const runtime = all.filter((m) => RUNTIME.test(m.name)).map((m) => `\`${m.name}\``);
  lines.push('', `Runtime metrics (prom-client's defaults): ${runtime.join(', ')}.`);
  return lines.join('\n');
}

/** `doc` with the text between the markers replaced by metricsDoc(); throws when a marker is missing. */
export function withMetricsDoc(doc: string): string {
  return withGeneratedSection(doc, METRICS_DOC_BEGIN, METRICS_DOC_END, metricsDoc());
}
