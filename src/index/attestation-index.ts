import type { DsseEnvelope } from '../signing/signer.ts';
import type { BackendName } from '../storage/backend.ts';
import type { RunKey, RunKind } from '../tekton/run-ref.ts';

/**
 * The index of record: our own account of every attestation and of each run's signing state.
 * It, not the run's (tenant-editable) annotations, decides whether a run is attested.
 * Implementations must be safe for concurrent use from one process; the SQLite one is the
 * default, a shared database (PostgreSQL) can implement the same interface later.
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
}

export interface AttestationSummary extends Omit<NewAttestation, 'envelope'> {
  id: string;
}

export type RunStatus = 'attested' | 'failed' | 'pending';

export interface RunState {
  uid: string;
  run: RunKey;
  status: RunStatus;
  /** failed attempts so far */
  attempts: number;
  lastError?: string;
  updatedAt: Date;
}

export interface Page<T> {
  items: T[];
  /** opaque cursor for the next page; absent on the last page */
  next?: string;
}

/** A namespace and run kind: the unit the lookup API grants access to. */
export interface RunScope {
  namespace: string;
  kind: RunKind;
}

export interface AttestationIndex {
  /** Records an attestation; returns its id. */
  addAttestation(attestation: NewAttestation): Promise<string>;
  /** Sets a run's state (upsert by uid). */
  setRunState(state: RunState): Promise<void>;
  getRunState(uid: string): Promise<RunState | undefined>;
  /** States of every run (any uid) that had this kind, namespace and name, most recently updated first. */
  findRunStates(run: RunKey): Promise<RunState[]>;
  /**
   * Attestations whose subjects include `digest`, newest first. With `scopes`, only attestations of
   * runs in one of those (namespace, kind) pairs: the listing, its `next` cursor and whether there
   * is a next page then depend on those rows alone, so a caller learns nothing of the others.
   * An empty `scopes` lists nothing; undefined lists all.
   */
  findByDigest(
    digest: string,
    page: { limit: number; cursor?: string; scopes?: readonly RunScope[] },
  ): Promise<Page<AttestationSummary>>;
  /** The distinct (namespace, kind) pairs of the runs whose attestations include `digest`. */
  digestScopes(digest: string): Promise<RunScope[]>;
  /** Attestations of one run (any uid that had this name), newest first. */
  findByRun(run: { namespace: string; kind: RunKind; name: string }): Promise<AttestationSummary[]>;
  getAttestation(id: string): Promise<AttestationSummary | undefined>;
  getEnvelope(id: string): Promise<DsseEnvelope | undefined>;
  close(): Promise<void>;
}
