import type { AttestationOrigin, BackendName } from '../model/index.ts';
import type { DsseEnvelope } from '../signing/index.ts';
import type { RunKey } from '../tekton/index.ts';
import type { AttestationReader } from './attestation-reader.ts';
import type { AttestationRecorder, ResignJobs, RunRecords } from './attestation-recorder.ts';
import type { IndexRetention } from './index-retention.ts';
import type { DecisionLog } from './log/decision-log.ts';
import type { RunCaptures } from './run-captures.ts';
import type { RunClaims } from './run-claims.ts';

/**
 * The index of record: our own account of every attestation and of each run's signing state.
 * It, not the run's (tenant-editable) annotations, decides whether a run is attested.
 * Implementations must be safe for concurrent use from one process; the SQLite one is the
 * default (one replica), the PostgreSQL one is shared by several replicas.
 *
 * Failures are `ObserverError`s: code `index` (retryable when the database is busy, unreachable
 * or out of space: nothing was written, try again) or `input_invalid` (bad input, never retryable).
 */

/** Where one backend put an artifact, or why it could not. */
export interface StorageOutcome {
  backend: BackendName;
  ok: boolean;
  locations: string[];
  error?: string;
}

export interface NewAttestation {
  run: RunKey & { uid: string };
  predicateType: string;
  /** subject digests as `sha256:<hex>` (any algorithm `alg:hex`), with names */
  subjects: { name: string; digest: string }[];
  envelope: DsseEnvelope;
  keyId: string;
  storage: StorageOutcome[];
  createdAt: Date;
  /**
   * Inputs left out of the provenance, each with its reason code (SkippedInput of artifacts/:
   * `digest_invalid`, `repository_not_allowed`, …); kept as the first record of them. Read back
   * only when there were any.
   */
  skipped?: { source: string; code: string; reason: string }[];
  /** who signed it: `observer` (default) or `chains` (adopted from Tekton Chains; keyId is Chains' key) */
  origin?: AttestationOrigin;
}

export interface AttestationSummary extends Omit<NewAttestation, 'envelope'> {
  id: string;
}

export interface Page<T> {
  items: T[];
  /** opaque cursor for the next page; absent on the last page */
  next?: string;
}

/**
 * The whole index, as an implementation provides it: the controller's role (recording
 * attestations and run states), the lookup API's (reading them), the replicas' shared work
 * (claims and attempts), the captured copies of finished runs and retention. Callers take only the role they use; only the composition
 * root holds the whole index (and closes it).
 */
export interface AttestationIndex
  extends AttestationRecorder,
    RunRecords,
    AttestationReader,
    RunClaims,
    RunCaptures,
    IndexRetention,
    ResignJobs,
    DecisionLog {
  /** Whether the database answers now (readiness); never throws. */
  healthy(): Promise<boolean>;
  close(): Promise<void>;
}
