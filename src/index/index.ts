export type {
  AttestationIndex,
  AttestationSummary,
  NewAttestation,
  Page,
  RunState,
  RunStatus,
  StorageOutcome,
} from './attestation-index.ts';
export { attestationId, SqliteIndex, type SqliteIndexOptions } from './sqlite-index.ts';
