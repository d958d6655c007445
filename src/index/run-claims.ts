import type { Fence, RunClaim } from '../model/index.ts';

/**
 * Work on one run shared by every replica through the index: an expiring claim (a lease) so one
 * replica at a time attempts a run and a killed replica's claim lapses on its own, and a durable
 * attempt record so retry backoff survives restarts and moves between replicas.
 *
 * Times come from the index's clock (an injected `now`); replicas sharing an index must have
 * clocks that agree to well within a lease.
 */
export interface RunWork {
  uid: string;
  /** who holds the claim, until when, with which fencing token; absent once released (an expired claim is still shown) */
  claim?: RunClaim;
  /** when the run was seen deleted from the cluster (markRunDeleted) */
  deletedAt?: Date;
}

/** The answer to a claim: held, with the fencing token every write under it carries, or who holds it until when. */
export type ClaimResult = { held: true; fence: number } | { held: false; expiresAt?: Date };

export interface RunClaims {
  /**
   * Takes the claim on run `uid` for `owner` for `leaseMs`, when nobody holds it, its lease has
   * expired, or `owner` already holds it (then the lease is extended, same token). Atomic across
   * replicas: of several concurrent callers exactly one holds it. Each take from another owner (or
   * after a release) grows the run's fencing token, so a write fenced by an older one is refused.
   */
  claimRun(uid: string, owner: string, leaseMs: number): Promise<ClaimResult>;
  /** Extends the claim by `leaseMs` from now; false when it has moved on since (another owner, another token). */
  renewClaim(uid: string, fence: Fence, leaseMs: number): Promise<boolean>;
  /** Gives up `owner`'s claim at once; a no-op when `owner` does not hold it. */
  releaseClaim(uid: string, owner: string): Promise<void>;
  getRunWork(uid: string): Promise<RunWork | undefined>;
}
