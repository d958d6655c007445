import { describeOutcome } from '../attest/index.ts';
import type { SkippedInput } from '../formats/index.ts';
import type { EventRecorder } from '../kube/index.ts';
import type { AttemptContext } from '../model/index.ts';
import type { Logger, Metrics } from '../observability/index.ts';
import type { ExecutionCheckOutcome } from '../policy/index.ts';
import { SIGNED } from '../storage/index.ts';
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

  /**
   * The run's signed annotation (`found`) disagrees with the index: it says signed=true with no
   * record (`signed_without_record`: attested now), or an attested run lost its mark
   * (`signed_annotation_changed`: restored). `reason` is the metric label.
   */
  async mismatch(
    run: RunRef,
    reason: 'signed_without_record' | 'signed_annotation_changed',
    found: string | undefined,
    log: Logger,
    context?: AttemptContext,
  ): Promise<void> {
    const message =
      reason === 'signed_without_record'
        ? 'annotated signed=true but the observer has no record of attesting it; attesting now'
        : `annotation ${SIGNED} was "${found ?? ''}" but the run is attested; restoring "true"`;
    this.#metrics.tamperMismatches.inc({ kind: run.kind, reason });
    log.warn({ reason }, message);
    await this.event(run, 'Warning', 'AnnotationMismatch', message, context);
  }

  /** Inputs left out of the provenance, each with its reason. */
  async skipped(
    run: RunRef,
    skipped: readonly SkippedInput[],
    log: Logger,
    context?: AttemptContext,
  ): Promise<void> {
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
      context,
    );
  }

  /** A Pod that ran other images than reported, or is not the run's (record mode; enforce refuses). */
  async execution(
    run: RunRef,
    check: ExecutionCheckOutcome | undefined,
    log: Logger,
    context?: AttemptContext,
  ): Promise<void> {
    if (check?.result !== 'mismatch' && check?.result !== 'not_owned') return;
    const message = `execution check: ${check.result}: ${describeOutcome(check)} (recorded in the provenance as executionCheck)`;
    log.warn({ executionCheck: check }, message);
    await this.event(run, 'Warning', 'ExecutionMismatch', message, context);
  }

  /** Every method takes the attempt's context last: the Event is written in its lane. */
  event(
    run: RunRef,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    context?: AttemptContext,
  ): Promise<void> {
    return this.#events.record({ run, type, reason, message }, context);
  }
}
