import { allDownUntil, type ObserverError, tenantMessage } from '../errors.ts';
import type { RunRecord } from '../model/index.ts';
import { RETRIES, SIGNED } from '../model/index.ts';
import { delayFor, RETRY_MAX_MS } from '../retry/index.ts';
import type { RunKey } from '../tekton/index.ts';

/** What happened to a run that its record must follow. */
export type RunOutcome =
  /** an attempt starts: counted before it runs, so one cut short by a crash still counts */
  | { kind: 'started' }
  /** every artifact is stored in every backend */
  | { kind: 'attested' }
  /** the attempt failed with these errors (registry hosts known down make it a deferral) */
  | { kind: 'failed'; errors: readonly ObserverError[] }
  /** the round's attempts all started and never reported back (the observer died in each) */
  | { kind: 'abandoned' }
  /** refused before any attempt (the namespace's share of the index is used up) */
  | { kind: 'refused'; detail: string; publicText: string }
  /** attested per the index, but the run no longer says so (a tenant edited it) */
  | { kind: 'mark-lost'; found: string | undefined };

/** What the record's new state asks to be done, in this order. */
export type Effect =
  /** persist the new record (fenced by the claim) */
  | { kind: 'save' }
  /** write the attestation's index record (before the mark: a mark always has its record) */
  | { kind: 'record-attestation' }
  /** patch the run's annotations; `stored`: with what the backends ask the run to carry */
  | { kind: 'mark'; annotations: Record<string, string | null>; stored?: true }
  /** drop the signed artifacts kept between attempts */
  | { kind: 'forget' }
  /** say it: metrics, log, Event (the reporter owns how) */
  | { kind: 'report'; report: Report };

export type Report =
  | { kind: 'attested' }
  | { kind: 'retrying'; attempts: number; detail: string; publicText: string }
  | { kind: 'deferred'; attempts: number; retryInMs: number; detail: string; publicText: string }
  | { kind: 'gave-up'; attempts: number; detail: string; publicText: string }
  | { kind: 'mismatch'; found: string | undefined }
  | { kind: 'ignored'; outcome: RunOutcome['kind']; status: RunRecord['status'] | 'none' };

export interface TransitionContext {
  now: number;
  /** attempts a round may start (`attestation.max-attempts`) */
  maxAttempts: number;
  /** the retry spacing's base (`attestation.retry-base-ms`) */
  retryBaseMs: number;
  /** how long a round may wait for registries that stay down before it fails (`attestation.registry-wait-seconds`) */
  registryWaitMs: number;
  /** jitter in [0, 1) */
  random: () => number;
}

export interface Transition {
  record: RunRecord;
  effects: Effect[];
  /** come back after so many ms (a retry or a deferral that is not due yet) */
  requeueAfterMs?: number;
}

/** The shortest wait of a deferred attempt (a probe that is due now is someone else's). */
export const MIN_DEFER_MS = 1_000;
/** The reason code of a round that waited past `attestation.registry-wait-seconds`. */
export const REGISTRY_UNAVAILABLE = 'registry_unavailable';

/**
 * The run's next record and what it asks for, a pure function of its record (undefined: none yet)
 * and an outcome. An attested record is never overwritten by a failure (a slow or stale attempt
 * cannot undo an attestation); outcomes that make no sense in the state are reported as ignored
 * and change nothing. Table-tested cell by cell (test/unit/reconcile/transition.test.ts).
 */
export function transition(
  record: RunRecord | undefined,
  run: RunKey & { uid: string },
  outcome: RunOutcome,
  ctx: TransitionContext,
): Transition {
  const status = record?.status ?? 'none';
  const current = record ?? fresh(run, ctx.now);
  switch (outcome.kind) {
    case 'started':
      return status === 'attested' ? ignored(current, outcome, status) : started(current, ctx);
    case 'attested':
      return attested(current, ctx);
    case 'failed':
      return status === 'attested' ? ignored(current, outcome, status) : failed(current, outcome.errors, ctx);
    case 'abandoned':
      return status === 'pending'
        ? gaveUp(current, ctx, {
            detail: `${current.attempts} attempt(s) started and never finished (the observer stopped during each)`,
          })
        : ignored(current, outcome, status);
    case 'refused':
      return status === 'attested'
        ? ignored(current, outcome, status)
        : gaveUp(current, ctx, { detail: outcome.detail, publicText: outcome.publicText });
    case 'mark-lost':
      return status === 'attested'
        ? {
            record: current,
            effects: [
              { kind: 'report', report: { kind: 'mismatch', found: outcome.found } },
              { kind: 'mark', annotations: { [SIGNED]: 'true' } },
            ],
          }
        : ignored(current, outcome, status);
    default:
      return outcome satisfies never;
  }
}

function fresh(run: RunKey & { uid: string }, now: number): RunRecord {
  const { uid, kind, namespace, name } = run;
  return { uid, run: { kind, namespace, name }, status: 'pending', attempts: 0, updatedAt: new Date(now) };
}

/** Counts the attempt and sets when the next may start should this one fail. */
function started(r: RunRecord, ctx: TransitionContext): Transition {
  const attempts = (r.status === 'pending' ? r.attempts : 0) + 1;
  const delay = delayFor(attempts - 1, { baseMs: ctx.retryBaseMs, maxMs: RETRY_MAX_MS, random: ctx.random });
  const record: RunRecord = {
    ...base(r, ctx.now),
    status: 'pending',
    attempts,
    lastAttemptAt: new Date(ctx.now),
    ...(r.status === 'pending' && r.lastError ? { lastError: r.lastError } : {}),
    ...(attempts < ctx.maxAttempts ? { nextAttemptAt: new Date(ctx.now + delay) } : {}),
    ...(r.status === 'pending' && r.deferredSince ? { deferredSince: r.deferredSince } : {}),
  };
  return { record, effects: [{ kind: 'save' }] };
}

/** The record first, then the mark, then the state: a crash between any two is safe (see AttemptOutcomes). */
function attested(r: RunRecord, ctx: TransitionContext): Transition {
  return {
    record: { ...base(r, ctx.now), status: 'attested', attempts: 0 },
    effects: [
      { kind: 'record-attestation' },
      { kind: 'mark', annotations: { [SIGNED]: 'true' }, stored: true },
      { kind: 'save' },
      { kind: 'report', report: { kind: 'attested' } },
    ],
  };
}

function failed(r: RunRecord, errors: readonly ObserverError[], ctx: TransitionContext): Transition {
  const detail = errors.map((e) => e.message).join('; ');
  const publicText = errors.map(tenantMessage).join('; ');
  const downUntil = allDownUntil(errors);
  if (downUntil !== undefined) return deferred(r, downUntil, { detail, publicText }, ctx);
  if (r.attempts >= ctx.maxAttempts || errors.every((e) => !e.retryable))
    return gaveUp(r, ctx, { detail, publicText });
  const record: RunRecord = {
    ...base(r, ctx.now),
    status: 'pending',
    attempts: r.attempts,
    lastError: publicText,
    ...(r.nextAttemptAt ? { nextAttemptAt: r.nextAttemptAt } : {}),
  };
  const retryInMs = Math.max(0, (r.nextAttemptAt?.getTime() ?? ctx.now) - ctx.now);
  return {
    record,
    effects: [
      { kind: 'save' },
      { kind: 'mark', annotations: { [RETRIES]: String(r.attempts) } },
      { kind: 'report', report: { kind: 'retrying', attempts: r.attempts, detail, publicText } },
    ],
    requeueAfterMs: retryInMs,
  };
}

/**
 * Met only registry hosts known to be down: not counted (the round's count goes back) and the run
 * waits for the hosts' next probe, until the round has waited `registryWaitMs`: then it fails with
 * `registry_unavailable`. An outage of minutes fails no run; a registry that never recovers does
 * not keep runs pending forever.
 */
function deferred(
  r: RunRecord,
  until: number,
  text: { detail: string; publicText: string },
  ctx: TransitionContext,
): Transition {
  const since = r.deferredSince?.getTime() ?? ctx.now;
  if (ctx.now - since >= ctx.registryWaitMs) {
    const waited = `${REGISTRY_UNAVAILABLE}: registry unavailable for ${Math.round((ctx.now - since) / 1000)} s`;
    return gaveUp(r, ctx, {
      detail: `${waited}: ${text.detail}`,
      publicText: `${waited}: ${text.publicText}`,
    });
  }
  const at = Math.max(until, ctx.now + MIN_DEFER_MS);
  const attempts = Math.max(0, r.attempts - 1);
  const record: RunRecord = {
    ...base(r, ctx.now),
    status: 'pending',
    attempts,
    lastError: text.publicText,
    nextAttemptAt: new Date(at),
    deferredSince: new Date(since),
  };
  const report: Report = { kind: 'deferred', attempts, retryInMs: at - ctx.now, ...text };
  return { record, effects: [{ kind: 'save' }, { kind: 'report', report }], requeueAfterMs: at - ctx.now };
}

/** Failed for good: the state first (nothing retries it), then the mark, then say so. */
function gaveUp(
  r: RunRecord,
  ctx: TransitionContext,
  { detail, publicText = detail }: { detail: string; publicText?: string },
): Transition {
  return {
    record: { ...base(r, ctx.now), status: 'failed', attempts: r.attempts, lastError: publicText },
    effects: [
      { kind: 'save' },
      { kind: 'forget' },
      { kind: 'mark', annotations: { [SIGNED]: 'failed', [RETRIES]: String(r.attempts) } },
      { kind: 'report', report: { kind: 'gave-up', attempts: r.attempts, detail, publicText } },
    ],
  };
}

function ignored(r: RunRecord, outcome: RunOutcome, status: RunRecord['status'] | 'none'): Transition {
  return {
    record: r,
    effects: [{ kind: 'report', report: { kind: 'ignored', outcome: outcome.kind, status } }],
  };
}

/** The fields every new record keeps: identity, when the latest attempt started, the time of the change. */
function base(r: RunRecord, now: number): Pick<RunRecord, 'uid' | 'run' | 'updatedAt' | 'lastAttemptAt'> {
  return {
    uid: r.uid,
    run: r.run,
    ...(r.lastAttemptAt ? { lastAttemptAt: r.lastAttemptAt } : {}),
    updatedAt: new Date(now),
  };
}
