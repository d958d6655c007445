import { type AttestOutcome, describeOutcome } from '../attest/index.ts';
import type { SkippedInput } from '../formats/index.ts';
import type { EventRecorder } from '../kube/index.ts';
import { type AttemptContext, SIGNED } from '../model/index.ts';
import type { Logger, Metrics } from '../observability/index.ts';
import type { ExecutionCheckOutcome } from '../policy/index.ts';
import type { RunRef } from '../tekton/index.ts';
import { REGISTRY_UNAVAILABLE, type Report, type RunOutcome } from './transition.ts';

/** What an outcome's report may name besides the report itself. */
export interface ReportDetails {
  /** the index id of the attestation just recorded */
  attestationId?: string | undefined;
  attestation?: { outcome: AttestOutcome; completedAt?: number } | undefined;
  /** the attempt's context: its Events are written in its lane */
  context?: AttemptContext | undefined;
}

/**
 * Tells people what happened to a run: an Event on the run, a metric and a log line, always the
 * three together, except the Normal Event of a run attested, which `observer.success-events` asks
 * for (the annotation and the metric say it already). Recording an Event never fails a reconcile
 * (EventRecorder's contract).
 */
export class RunReporter {
  readonly #events: EventRecorder;
  readonly #metrics: Metrics;
  readonly #clock: () => number;
  readonly #successEvents: () => boolean;

  /** `successEvents`: whether an attested run gets a Normal Event too (`observer.success-events`) */
  constructor(options: {
    events: EventRecorder;
    metrics: Metrics;
    clock?: () => number;
    successEvents?: () => boolean;
  }) {
    this.#events = options.events;
    this.#metrics = options.metrics;
    this.#clock = options.clock ?? Date.now;
    this.#successEvents = options.successEvents ?? (() => true);
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
    const summary = skipped.map((s) => `${s.source}: ${s.reason} [${s.code}]`).join('; ');
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

  /** What a transition of the run's record asks to be said (src/reconcile/transition.ts). */
  async outcome(run: RunRef, report: Report, log: Logger, details: ReportDetails = {}): Promise<void> {
    const { context } = details;
    switch (report.kind) {
      case 'attested':
        return this.#attested(run, log, details);
      case 'retrying':
        this.#metrics.attemptFailures.inc({ kind: run.kind });
        log.warn({ attempts: report.attempts, err: report.detail }, 'attestation attempt failed; will retry');
        return this.event(
          run,
          'Warning',
          'AttestationRetrying',
          `attempt ${report.attempts} failed: ${report.publicText}`,
          context,
        );
      case 'deferred':
        log.warn(
          { attempts: report.attempts, err: report.detail, retryInMs: report.retryInMs },
          'registry down; attempt deferred',
        );
        return this.event(
          run,
          'Warning',
          'AttestationDeferred',
          `registry unavailable, not counted as an attempt; next try in ${Math.ceil(report.retryInMs / 1000)} s: ${report.publicText}`,
          context,
        );
      case 'gave-up':
        this.#metrics.runsFailed.inc({ kind: run.kind });
        if (report.publicText.startsWith(REGISTRY_UNAVAILABLE))
          this.#metrics.registryWaitExpired.inc({ kind: run.kind });
        log.error({ attempts: report.attempts, err: report.detail }, 'attestation failed; giving up');
        return this.event(
          run,
          'Warning',
          'AttestationFailed',
          `giving up after ${report.attempts} attempt(s): ${report.publicText}`,
          context,
        );
      case 'mismatch':
        return this.mismatch(run, 'signed_annotation_changed', report.found, log, context);
      case 'ignored':
        log.warn(
          { outcome: report.outcome, status: report.status },
          'outcome does not apply to the run record; ignored',
        );
        return;
      default:
        return report satisfies never;
    }
  }

  /** A write refused by its fence: another replica holds the run now; this one stops writing. */
  fenced(run: RunRef, outcome: RunOutcome['kind'], log: Logger): void {
    this.#metrics.fencedWrites.inc({ kind: run.kind });
    log.warn({ outcome }, 'the claim on the run moved to another replica; not writing this outcome');
  }

  async #attested(run: RunRef, log: Logger, details: ReportDetails): Promise<void> {
    const { attestationId: id, attestation, context } = details;
    if (attestation?.outcome.origin === 'chains') return this.#adopted(run, log, details);
    this.#metrics.chains[run.kind].markedSigned.inc();
    this.#metrics.runsAttested.inc({ kind: run.kind });
    const completedAt = attestation?.completedAt;
    if (completedAt !== undefined)
      this.#metrics.completionToAttested.observe(
        { kind: run.kind },
        Math.max(0, this.#clock() - completedAt) / 1000,
      );
    const results = attestation?.outcome.results ?? [];
    const where = results.flatMap((r) => (r.result.ok ? r.result.locations : []));
    const notes = results.flatMap((r) => (r.result.ok ? (r.result.notes ?? []) : []));
    for (const note of notes) await this.event(run, 'Warning', 'StoredElsewhere', note, context);
    log.info({ attestationId: id, locations: where }, 'attested');
    if (!this.#successEvents()) return;
    await this.event(
      run,
      'Normal',
      'Attested',
      `attested${id ? ` (index id ${id})` : ''}; stored in ${where.length} location(s)`,
      context,
    );
  }

  /** A run Tekton Chains signed, recorded as adopted: nothing was signed, stored or marked. */
  async #adopted(run: RunRef, log: Logger, { attestationId: id, attestation, context }: ReportDetails) {
    this.#metrics.chainsAdopted.inc({ kind: run.kind });
    const keyId = attestation?.outcome.provenance?.artifact.keyId;
    log.info({ attestationId: id, keyId }, 'adopted');
    await this.event(
      run,
      'Normal',
      'Adopted',
      `adopted the attestation Tekton Chains signed (key ${keyId}${id ? `, index id ${id}` : ''})`,
      context,
    );
  }

  /** `context` (every method's last): the attempt's, whose lane the Event is written in. */
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
