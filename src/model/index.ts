export * from './chains-annotations.ts';
export { type Fence, isSettled, type RunClaim, type RunRecord, type RunStatus } from './run-record.ts';
