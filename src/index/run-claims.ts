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
  /** who holds the claim and until when; absent once released (an expired claim is still shown) */
  claim?: { owner: string; expiresAt: Date };
  /** attempts started so far (recordAttemptStarted) */
  attempts: number;
  lastAttemptAt?: Date;
  /** no attempt should start before this (retry backoff); absent: any time */
  nextAttemptAt?: Date;
  /** when the run was seen deleted from the cluster (markRunDeleted) */
  deletedAt?: Date;
}

export interface RunClaims {
  /**
   * Takes the claim on run `uid` for `owner` for `leaseMs`, when nobody holds it, its lease has
   * expired, or `owner` already holds it (then the lease is extended). Atomic across replicas:
   * of several concurrent callers exactly one gets true.
   */
  claimRun(uid: string, owner: string, leaseMs: number): Promise<boolean>;
  /** Extends `owner`'s claim by `leaseMs` from now; false when another owner has taken it since. */
  renewClaim(uid: string, owner: string, leaseMs: number): Promise<boolean>;
  /** Gives up `owner`'s claim at once; a no-op when `owner` does not hold it. */
  releaseClaim(uid: string, owner: string): Promise<void>;
  /**
   * Counts an attempt before it runs (so an attempt cut short by a crash still counts) and sets
   * when the next one may start (`nextAttemptAt`, absent: clears it). Returns the attempt number (1 for the first).
   */
  recordAttemptStarted(uid: string, at: Date, nextAttemptAt?: Date): Promise<number>;
  /**
   * Moves when the next attempt may start (an attempt that met only registry hosts known to be
   * down waits for them, not for its backoff); the count and the last attempt's time stay.
   */
  deferNextAttempt(uid: string, nextAttemptAt: Date): Promise<void>;
  getRunWork(uid: string): Promise<RunWork | undefined>;
}
