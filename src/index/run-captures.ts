import type { PodEvidence } from '../policy/index.ts';
import type { RunKey } from '../tekton/index.ts';

/**
 * A finished run's copy, taken when the observer first saw it finished (list, watch, or the final
 * object a DELETED event carries), so that a run deleted before it is reconciled is still attested
 * from what it was. The object is the run as the apiserver served it minus `metadata.managedFields`
 * (a PipelineRun's `status.childReferences` name its children; those TaskRuns are captured
 * themselves when they finish).
 */
export interface RunCapture {
  uid: string;
  run: RunKey;
  /** the run object (JSON-serialisable), without managedFields */
  object: Record<string, unknown>;
  capturedAt: Date;
  /**
   * a TaskRun's Pod evidence taken at this sighting (policy/pod-evidence.ts); stored once per uid —
   * the first evidence stored is kept, later sightings never replace it
   */
  evidence?: PodEvidence;
}

/** What the index holds of one run's capture (RunCaptures.capturedVersions). */
export interface CapturedVersion {
  /** metadata.resourceVersion of the stored copy; undefined when it has none */
  resourceVersion?: string;
  /** whether the run's Pod evidence is stored (the first stored is kept) */
  evidence: boolean;
}

/**
 * The index's durable capture table: captured objects live in the database, not in the heap.
 * A capture is idempotent by uid: the same uid again replaces the copy with the newer one (on
 * PostgreSQL, which replicas share, only a copy of another resourceVersion does: the same version
 * again leaves the row as first written).
 *
 * The index is not a root of trust: every capture, evidence and sighting row is sealed by the
 * observer when written (seal/index-seal.ts), and a row read back that fails its seal (inserted or
 * edited by anyone else) is reported and never returned, so nothing is signed from it.
 */
export interface RunCaptures {
  /**
   * Stores the copies in ONE transaction (one commit for a whole batch: a re-list of thousands of
   * runs must not commit per run). Within a batch the last copy of a uid wins. All or nothing: on
   * failure (a retryable `index` error when the database is busy, down or full) none is stored.
   */
  captureRuns(captures: readonly RunCapture[]): Promise<void>;
  /**
   * Of `uids`, those captured already: the resourceVersion of the stored copy (as its object says)
   * and whether the run's Pod evidence is stored. Replicas sharing an index all see every finished
   * run: the first to capture it writes the copy, the others find it here at the same
   * resourceVersion and write nothing (nor read the Pod again), so a run's capture costs one write
   * whatever the replica count. Only a skip is decided from this answer, never what is signed (the
   * copy signed from is read back and checked against its seal); a row edited to claim a version it
   * does not hold withholds an update, as deleting the row would. Implemented by an index replicas
   * share (PostgreSQL); a single-replica index leaves it out and every sighting writes.
   */
  capturedVersions?(uids: readonly string[]): Promise<Map<string, CapturedVersion>>;
  /**
   * The first TaskRun captured under this name as a child of the PipelineRun `parentUid` (by its
   * ownerReference): its uid and when it was first captured. captureRuns records each TaskRun's
   * first capture per parent once; later captures never move it.
   */
  firstChildSighting(run: RunKey, parentUid: string): Promise<{ uid: string; at: Date } | undefined>;
  /**
   * The Pod evidence first stored for the run `uid` (captureRuns), or undefined; also undefined
   * when the row fails its seal (reported, naming `run` when given).
   */
  findRunEvidence(uid: string, run?: RunKey): Promise<PodEvidence | undefined>;
  /**
   * The copy to attest `run` from when it is gone from the cluster: of the uids that had this
   * kind, namespace and name, one not yet settled (attested or failed) first, then the newest.
   */
  findCapturedRun(run: RunKey): Promise<RunCapture | undefined>;
  /**
   * Up to `limit` (default 10,000) captured runs not settled yet (no attested or failed state),
   * oldest capture first: the durable queue an observer resumes at start. A run deleted after it
   * was captured appears in no list, and the replicas that queued it from its DELETED event may
   * all have stopped since.
   */
  unsettledCaptures(limit?: number): Promise<(RunKey & { uid: string })[]>;
  /**
   * Drops up to `limit` (default 1000) copies no longer needed: of runs settled (attested or
   * failed) and deleted from the cluster before `deletedBefore`, or settled and captured before
   * `capturedBefore` (a deletion the observer never saw). Returns how many went.
   */
  pruneCaptures(cut: { deletedBefore: Date; capturedBefore: Date }, limit?: number): Promise<number>;
}
