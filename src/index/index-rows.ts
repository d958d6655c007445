import type { RunClaim, RunRecord } from '../model/index.ts';
import type { RunKind } from '../tekton/index.ts';
import type { AttestationSummary, Page, StorageOutcome } from './attestation-index.ts';
import type { ResignJobState } from './attestation-recorder.ts';
import { encodeCursor } from './cursor.ts';
import type { RunWork } from './run-claims.ts';

/**
 * Row shapes both schemas (sqlite-schema.ts, pg-schema.ts) are read as, and their mapping to the
 * index's types. Times are milliseconds since the epoch as numbers; JSON columns are text.
 */
export interface AttestationRow {
  id: string;
  run_uid: string;
  kind: RunKind;
  namespace: string;
  name: string;
  predicate_type: string;
  key_id: string;
  storage: string;
  /** JSON array of skipped inputs; `[]` for rows written before the column existed */
  skipped: string;
  /** `observer` or `chains` (adopted); `observer` for rows written before the column existed */
  origin?: string;
  created_at: number;
  subjects: string;
}

export interface RunRecordRow {
  uid: string;
  kind: RunKind;
  namespace: string;
  name: string;
  status: RunRecord['status'];
  attempts: number;
  last_error: string | null;
  updated_at: number;
  next_attempt_at: number | null;
  deferred_since: number | null;
  last_attempt_at: number | null;
  /** joined from run_work (null without a claim row) */
  owner: string | null;
  lease_expires: number | null;
  fence: number | null;
}

export function toSummary(row: AttestationRow): AttestationSummary {
  return {
    id: row.id,
    run: { kind: row.kind, namespace: row.namespace, name: row.name, uid: row.run_uid },
    predicateType: row.predicate_type,
    subjects: JSON.parse(row.subjects) as { name: string; digest: string }[],
    keyId: row.key_id,
    storage: JSON.parse(row.storage) as StorageOutcome[],
    createdAt: new Date(row.created_at),
    origin: row.origin === 'chains' ? 'chains' : 'observer',
    ...skippedOf(row),
  };
}

export function toRunRecord(row: RunRecordRow): RunRecord {
  const state: RunRecord = {
    uid: row.uid,
    run: { kind: row.kind, namespace: row.namespace, name: row.name },
    status: row.status,
    attempts: row.attempts,
    updatedAt: new Date(row.updated_at),
  };
  if (row.last_error !== null) state.lastError = row.last_error;
  if (row.next_attempt_at !== null) state.nextAttemptAt = new Date(Number(row.next_attempt_at));
  if (row.deferred_since !== null) state.deferredSince = new Date(Number(row.deferred_since));
  if (row.last_attempt_at !== null) state.lastAttemptAt = new Date(Number(row.last_attempt_at));
  const claim = toClaim(row);
  if (claim) state.claim = claim;
  return state;
}

function toClaim(row: Pick<RunRecordRow, 'owner' | 'lease_expires' | 'fence'>): RunClaim | undefined {
  if (row.owner === null || row.lease_expires === null) return undefined;
  return { owner: row.owner, expiresAt: new Date(Number(row.lease_expires)), fence: Number(row.fence ?? 0) };
}

export interface RunWorkRow {
  uid: string;
  owner: string | null;
  lease_expires: number | null;
  fence: number;
  deleted_at: number | null;
}

export function toRunWork(row: RunWorkRow): RunWork {
  const work: RunWork = { uid: row.uid };
  const claim = toClaim(row);
  if (claim) work.claim = claim;
  if (row.deleted_at !== null) work.deletedAt = new Date(row.deleted_at);
  return work;
}

/** One page from `limit + 1` rows fetched newest first: the extra row only says that more follow. */
export function toPage(rows: AttestationRow[], limit: number): Page<AttestationSummary> {
  const items = rows.slice(0, limit).map(toSummary);
  const last = items.at(-1);
  return rows.length > limit && last
    ? { items, next: encodeCursor({ createdAt: last.createdAt.getTime(), id: last.id }) }
    : { items };
}

function skippedOf(row: AttestationRow): Pick<AttestationSummary, 'skipped'> {
  const skipped = JSON.parse(row.skipped || '[]') as NonNullable<AttestationSummary['skipped']>;
  return skipped.length > 0 ? { skipped } : {};
}

/** The row as both schemas store it (resign_jobs). */
export interface ResignJobRow {
  id: string;
  selection: string;
  cursor: string | null;
  resigned: number;
  current: number;
  failed: number;
  updated_at: number;
}

export const toResignJob = (r: ResignJobRow): ResignJobState => ({
  id: r.id,
  selection: r.selection,
  ...(r.cursor !== null ? { cursor: r.cursor } : {}),
  resigned: Number(r.resigned),
  current: Number(r.current),
  failed: Number(r.failed),
  updatedAt: new Date(Number(r.updated_at)),
});

export const resignJobColumns = (j: ResignJobState): (string | number | null)[] => [
  j.id,
  j.selection,
  j.cursor ?? null,
  j.resigned,
  j.current,
  j.failed,
  j.updatedAt.getTime(),
];
