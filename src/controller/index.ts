export { Attestor, type AttestOutcome, type AttestorOptions } from './attestor.ts';
export { Backoff, delayFor } from './backoff.ts';
export { Controller, type ControllerOptions } from './controller.ts';
export { Reconciler, type ReconcileResult, type ReconcilerOptions } from './reconciler.ts';
export type { RunObservation, RunSource } from './run-source.ts';
export { WorkQueue, type Lane } from './work-queue.ts';
