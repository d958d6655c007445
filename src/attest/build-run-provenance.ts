import type { ObserverConfig } from '../config/index.ts';
import { asObserverError } from '../errors.ts';
import { buildProvenance, type ChildRun, type FormatName, type Provenance } from '../formats/index.ts';
import type { ExecutionCheckOutcome } from '../policy/index.ts';
import { describeRun, type RunRef, type TektonRun } from '../tekton/index.ts';

/**
 * Builds the run's provenance statement in `format` (pure, deterministic), with the
 * execution-check outcome when there is one. A failure is `payload_creation`, not retryable (the
 * same run builds the same way); the `extract` step that runs it counts it in Chains'
 * signing_failures_total{error_type="payload_creation"}.
 */
export function buildRunProvenance(
  o: { config: ObserverConfig; format: FormatName },
  run: RunRef,
  object: TektonRun,
  children: readonly ChildRun[],
  executionCheck?: ExecutionCheckOutcome,
): Provenance {
  const c = o.config;
  try {
    return buildProvenance(
      object.kind === 'TaskRun'
        ? { kind: 'TaskRun', run: object, executionCheck }
        : { kind: 'PipelineRun', run: object, children: [...children] },
      {
        format: o.format,
        builderId: c.builderId,
        buildType: c.buildType,
        deepInspection: c.pipelinerun.deepInspection,
      },
    );
  } catch (err) {
    throw asObserverError(err, {
      code: 'payload_creation',
      retryable: false,
      context: `building provenance for ${describeRun(run)}`,
    });
  }
}
