import type { DecisionEntry } from '../log/index.ts';
import type { Fence, RunRecord } from '../model/index.ts';
import type { NewAttestation } from './attestation-index.ts';

/** The controller's write role: records what it attested. */
export interface AttestationRecorder {
  /** Records an attestation; returns its id. */
  addAttestation(attestation: NewAttestation): Promise<string>;
}

/**
 * Each run's one record (src/model/run-record.ts) by uid: status, attempts, when the next may
 * start, and the claim it is worked under (read only: claims are written through RunClaims).
 */
export interface RunRecords {
  /**
   * Writes the record (upsert by uid; `claim` is not written). With `fence`, only while that claim
   * still holds the run (same owner, same token), atomically with the check: false when it has
   * moved on (nothing written). Without, unconditionally (tests, single-writer tools).
   * `decisions` are appended to the decision log (decision-log.ts) in the same transaction, so a
   * decision is logged exactly when the record that carries it out is written.
   */
  putRunRecord(record: RunRecord, fence?: Fence, decisions?: readonly DecisionEntry[]): Promise<boolean>;
  getRunRecord(uid: string): Promise<RunRecord | undefined>;
  /** Whether `fence` still holds the run's claim (checked before writes outside the index). */
  holdsClaim(uid: string, fence: Fence): Promise<boolean>;
}

/**
 * A `resign` job's progress (cli/resign/), kept in the index so a killed resign continues where it
 * stopped: the job is named by what it selects and what it signs with, `cursor` is the last run
 * it finished (in list order), the counts are totals over every invocation of the job.
 */
export interface ResignJobState {
  /** SHA-256 of the selection, the key id and the formats */
  id: string;
  /** the selection as JSON, for people reading the table */
  selection: string;
  /** `<kind>/<namespace>/<name>` of the last run finished; absent before the first */
  cursor?: string;
  resigned: number;
  current: number;
  failed: number;
  updatedAt: Date;
}

/** The resign command's role: read, write (upsert by id) and forget a job's progress. */
export interface ResignJobs {
  getResignJob(id: string): Promise<ResignJobState | undefined>;
  putResignJob(job: ResignJobState): Promise<void>;
  deleteResignJob(id: string): Promise<void>;
}
