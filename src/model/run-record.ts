import type { RunKey } from '../tekton/index.ts';
import { SIGNED } from './chains-annotations.ts';

/** Where a run stands in the index of record. */
export type RunStatus = 'pending' | 'attested' | 'failed';

/** Who holds a run's claim, until when, and the fencing token every write under it carries. */
export interface RunClaim {
  owner: string;
  expiresAt: Date;
  /** grows by one each time the claim changes hands (or is taken again after a release) */
  fence: number;
}

/** What a write under a claim proves it holds: refused once the claim has moved on. */
export interface Fence {
  owner: string;
  fence: number;
}

/**
 * The one record of a run's signing state: status, attempts of the current round, when the next
 * attempt may start, and the claim it is worked under. The index keeps it (by uid); the pure
 * `transition()` (src/reconcile/transition.ts) is the only thing that computes a new one.
 */
export interface RunRecord {
  uid: string;
  run: RunKey;
  status: RunStatus;
  /** attempts started in the current round (a fresh try after `failed` starts a new round) */
  attempts: number;
  /** when the latest attempt started */
  lastAttemptAt?: Date;
  /** the last failure, as tenants may read it (no registry bodies) */
  lastError?: string;
  /** no attempt starts before this (retry spacing, or the probe of a registry that is down) */
  nextAttemptAt?: Date;
  /** when the round's first attempt was deferred for a registry that is down (cleared once one reaches it) */
  deferredSince?: Date;
  updatedAt: Date;
  /** the claim as last read (never written through the record: claims have their own writes) */
  claim?: RunClaim;
}

/**
 * Whether the run needs no more work: the index settled it (attested, or failed for good) and the
 * run agrees (its `signed` annotation says the same), or the run is gone so there is nothing to
 * mark. A tenant's edit of the annotation makes an attested run unsettled (its mark is restored);
 * removing `failed` asks for a fresh try.
 */
export function isSettled(
  record: Pick<RunRecord, 'status'> | undefined,
  annotations: Readonly<Record<string, string>>,
  gone: boolean,
): boolean {
  const signed = annotations[SIGNED];
  if (record?.status === 'attested') return signed === 'true' || gone;
  if (record?.status === 'failed') return signed === 'failed' || gone;
  return false;
}
