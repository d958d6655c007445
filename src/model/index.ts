export { type AttemptContext, type Lane, NO_ATTEMPT } from './attempt-context.ts';
export * from './chains-annotations.ts';
export { type Fence, isSettled, type RunClaim, type RunRecord, type RunStatus } from './run-record.ts';
export type { BackendName } from './storage-name.ts';
