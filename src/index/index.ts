export type {
  AttestationIndex,
  AttestationSummary,
  NewAttestation,
  Page,
  StorageOutcome,
} from './attestation-index.ts';
export type { AttestationReader, RunScope } from './attestation-reader.ts';
export type {
  AttestationRecorder,
  ResignJobState,
  ResignJobs,
  RunRecords,
} from './attestation-recorder.ts';
export { CursorSealer, type CursorSealerOptions, MIN_CURSOR_SECRET_BYTES } from './cursor.ts';
export { type IndexSelection, indexFromOptions } from './index-from-options.ts';
export { IndexHealth, type IndexHealthOptions } from './index-health.ts';
export { attestationId } from './index-input.ts';
export { IndexPruner, type IndexPrunerOptions } from './index-pruner.ts';
export type { IndexRetention, IndexStorage, PruneResult } from './index-retention.ts';
export { LogCheckpointer, type LogCheckpointerOptions } from './log/checkpointer.ts';
export type { DecisionLog, LoggedEntry, StoredCheckpoint } from './log/decision-log.ts';
export { attestationEntryKeys, consistencyOf, type LogProof, logProofOf } from './log/log-proofs.ts';
export type { PgTlsMode } from './pg/pg-connection.ts';
// PgIndex loads pg: indexFromOptions imports it for a postgres URL only
export type { PgIndex, PgIndexOptions } from './pg/pg-index.ts';
export type { CapturedVersion, RunCapture, RunCaptures } from './run-captures.ts';
export type { ClaimResult, RunClaims, RunWork } from './run-claims.ts';
export {
  type BrokenSeal,
  IndexSeal,
  type SealBreak,
  type SealedTable,
  type SealSecrets,
} from './seal/index-seal.ts';
export { PREVIOUS_SEAL_KEY_ENTRY, SEAL_KEY_ENTRY, sealSecretsFrom } from './seal/seal-secrets.ts';
export { SqliteIndex, type SqliteIndexOptions } from './sqlite/sqlite-index.ts';
export {
  exportIndex,
  importIndex,
  openTableAccess,
  type TableAccess,
  type TransferSummary,
} from './transfer/index.ts';
