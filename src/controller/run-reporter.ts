import type { SkippedInput } from '../formats/index.ts';
import type { EventRecorder } from '../kube/index.ts';
import type { Logger, Metrics } from '../observability/index.ts';
import type { RunRef } from '../tekton/index.ts';

/**
 * Tells people what happened to a run: an Event on the run, a metric and a log line, always the
 * three together. Recording an Event never fails a reconcile (EventRecorder's contract).
 */
export class RunReporter {
  readonly #events: EventRecorder;
  readonly #metrics: Metrics;

  constructor(options: { events: EventRecorder; metrics: Metrics }) {
    this.#events = options.events;
    this.#metrics = options.metrics;
  }

  /** The run's annotations disagree with the index (`reason`: the metric label). */
  async mismatch(run: RunRef, reason: string, message: string, log: Logger): Promise<void> {
    this.#metrics.tamperMismatches.inc({ kind: run.kind, reason });
    log.warn({ reason }, message);
    await this.event(run, 'Warning', 'AnnotationMismatch', message);
  }

  /** Inputs left out of the provenance, each with its reason. */
  async skipped(run: RunRef, skipped: readonly SkippedInput[], log: Logger): Promise<void> {
    if (!skipped.length) return;
    for (const s of skipped) {
      this.#metrics.inputsSkipped.inc({ kind: run.kind, reason: s.code });
      log.warn({ source: s.source, code: s.code, reason: s.reason }, 'input left out of provenance');
    }
    const summary = skipped.map((s) => `${s.source}: ${s.reason}`).join('; ');
    await this.event(
      run,
      'Warning',
      'InputSkipped',
      `${skipped.length} input(s) left out of provenance: ${summary}`,
    );
  }

  event(run: RunRef, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    return this.#events.record({ run, type, reason, message });
  }
}
