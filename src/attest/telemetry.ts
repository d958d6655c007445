import type { ChainsErrorType, Metrics } from '../observability/index.ts';
import type { BackendName } from '../storage/index.ts';
import type { RunRef } from '../tekton/index.ts';

/** A named step of the attest pipeline (the `stage` label of provenance_observer_stage_duration_seconds). */
export type StepName = 'check' | 'extract' | 'sign' | 'tlog' | 'store';

/** What the attest pipeline tells its telemetry; nothing in the pipeline touches a metric itself. */
export type PipelineEvent =
  /** a step ended; `failed` names Chains' error type of a failure (signing_failures_total) */
  | {
      type: 'step';
      run: RunRef;
      step: StepName;
      seconds: number;
      backend?: BackendName;
      failed?: ChainsErrorType;
    }
  /** a store in one backend ended */
  | { type: 'stored'; run: RunRef; backend: BackendName; ok: boolean }
  /** artifacts were signed for the run (Chains' sign_created_total counts each) */
  | { type: 'signed'; run: RunRef; artifacts: number }
  /** the provenance was uploaded to Rekor */
  | { type: 'uploaded'; run: RunRef };

export interface PipelineTelemetry {
  emit(event: PipelineEvent): void;
}

/**
 * The one subscriber that owns the pipeline's metrics: stage durations, store results, and
 * Chains' watcher_* counters (sign_created, payload_uploaded, payload_stored, signing_failures).
 */
export class MetricsTelemetry implements PipelineTelemetry {
  readonly #metrics: Metrics;

  constructor(metrics: Metrics) {
    this.#metrics = metrics;
  }

  emit(event: PipelineEvent): void {
    const m = this.#metrics;
    const chains = m.chains[event.run.kind];
    switch (event.type) {
      case 'step':
        m.stageDuration.observe({ stage: event.step, backend: event.backend ?? '' }, event.seconds);
        if (event.failed) chains.signingFailures.inc({ error_type: event.failed });
        return;
      case 'stored':
        m.storeResults.inc({ backend: event.backend, outcome: event.ok ? 'ok' : 'error' });
        if (event.ok) chains.payloadStored.inc();
        return;
      case 'signed':
        chains.signCreated.inc(event.artifacts);
        return;
      case 'uploaded':
        chains.payloadUploaded.inc();
        return;
      default:
        event satisfies never;
    }
  }
}
