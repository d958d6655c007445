export type {
  AttestationIndex,
  AttestationSummary,
  NewAttestation,
  Page,
  RunState,
  RunStatus,
  StorageOutcome,
} from './attestation-index.ts';
export type { AttestationReader, RunScope } from './attestation-reader.ts';
export type { AttestationRecorder, RunStateStore } from './attestation-recorder.ts';
export { CursorSealer, type CursorSealerOptions, MIN_CURSOR_SECRET_BYTES } from './cursor.ts';
export { attestationId, SqliteIndex, type SqliteIndexOptions } from './sqlite-index.ts';
