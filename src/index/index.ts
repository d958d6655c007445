export type {
  AttestationIndex,
  AttestationSummary,
  NewAttestation,
  Page,
  RunScope,
  RunState,
  RunStatus,
  StorageOutcome,
} from './attestation-index.ts';
export { CursorSealer, type CursorSealerOptions, MIN_CURSOR_SECRET_BYTES } from './cursor.ts';
export { attestationId, SqliteIndex, type SqliteIndexOptions } from './sqlite-index.ts';
