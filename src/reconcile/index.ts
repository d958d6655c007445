export { withDeadline } from './deadline.ts';
export { type ReconcileResult, Reconciler, type ReconcilerOptions } from './reconciler.ts';
