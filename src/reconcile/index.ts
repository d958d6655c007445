export { readChildren } from './children.ts';
export { withDeadline } from './deadline.ts';
export { type ReconcileResult, Reconciler, type ReconcilerOptions } from './reconciler.ts';
export { recordAttestation } from './record.ts';
