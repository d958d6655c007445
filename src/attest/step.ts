import type { ChainsErrorType } from '../observability/index.ts';
import type { BackendName } from '../storage/index.ts';
import type { RunRef } from '../tekton/index.ts';
import type { PipelineTelemetry, StepName } from './telemetry.ts';

export interface StepOptions {
  /** Chains' error type a failure of this step counts as; none: a failure is not a signing failure */
  errorType?: ChainsErrorType;
  backend?: BackendName;
}

/**
 * Runs one named step of the attest pipeline: times it and tells the telemetry once, whether it
 * succeeded or threw (the error goes on unchanged: each step's own code already says what failed).
 */
export async function step<T>(
  telemetry: PipelineTelemetry,
  run: RunRef,
  name: StepName,
  fn: () => T | Promise<T>,
  options: StepOptions = {},
): Promise<T> {
  const started = performance.now();
  const done = (failed?: ChainsErrorType) =>
    telemetry.emit({
      type: 'step',
      run,
      step: name,
      seconds: (performance.now() - started) / 1000,
      ...(options.backend ? { backend: options.backend } : {}),
      ...(failed ? { failed } : {}),
    });
  try {
    const result = await fn();
    done();
    return result;
  } catch (err) {
    done(options.errorType);
    throw err;
  }
}
