export { readChildren } from './children.ts';
export { withDeadline } from './deadline.ts';
export { type ReconcileResult, Reconciler, type ReconcilerOptions } from './reconciler.ts';
export { recordAttestation } from './record.ts';
export { MIN_CLAIM_WAIT_MS } from './run-claim.ts';
