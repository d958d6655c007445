export type {
  AttestationIndex,
  AttestationSummary,
  NewAttestation,
  Page,
  RunState,
  RunStatus,
  StorageOutcome,
} from './attestation-index.ts';
export { attestationId } from './attestation-input.ts';
export type { IndexRetention, PruneResult } from './index-retention.ts';
export type { RunClaims, RunWork } from './run-claims.ts';
export { SqliteIndex, type SqliteIndexOptions } from './sqlite-index.ts';
