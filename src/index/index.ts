export type {
  AttestationIndex,
  AttestationSummary,
  NewAttestation,
  Page,
  RunState,
  RunStatus,
  StorageOutcome,
} from './attestation-index.ts';
export type { AttestationReader } from './attestation-reader.ts';
export type { AttestationRecorder, RunStateStore } from './attestation-recorder.ts';
export { attestationId, SqliteIndex, type SqliteIndexOptions } from './sqlite-index.ts';
