/** where runs come from; defined in tekton/ so that kube/ can implement it */
export type { RunObservation, RunSource } from '../tekton/index.ts';
export {
  AttestationChecks,
  type AttestationChecksOptions,
  describeOutcome,
  type SubjectGate,
} from './attestation-checks.ts';
export { type AttestOutcome, Attestor, type AttestorOptions } from './attestor.ts';
export { Controller, type ControllerOptions } from './controller.ts';
export { type ReconcileResult, Reconciler, type ReconcilerOptions } from './reconciler.ts';
export { type Lane, WorkQueue } from './work-queue.ts';
