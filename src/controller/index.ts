export {
  AttestationChecks,
  type AttestationChecksOptions,
  describeOutcome,
  type SubjectGate,
} from './attestation-checks.ts';
export { type AttestOutcome, Attestor, type AttestorOptions } from './attestor.ts';
export { Backoff, delayFor } from './backoff.ts';
export { Controller, type ControllerOptions } from './controller.ts';
export { type ReconcileResult, Reconciler, type ReconcilerOptions } from './reconciler.ts';
export type { RunObservation, RunSource } from './run-source.ts';
export { type Lane, WorkQueue } from './work-queue.ts';
