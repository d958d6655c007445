import type { Fence } from '../../model/index.ts';
import { leaseMs } from '../index-input.ts';
import type { IndexRetention, IndexStorage, PruneResult } from '../index-retention.ts';
import { type RunWorkRow, toRunWork } from '../index-rows.ts';
import type { ClaimResult, RunClaims, RunWork } from '../run-claims.ts';
import type { PgDb } from './pg-connection.ts';

const WORK_COLUMNS = `uid, owner, lease_expires::float8 AS lease_expires, fence,
  deleted_at::float8 AS deleted_at`;

/**
 * Takes the claim when it is free, expired or already this owner's; a take from anyone else (or
 * after a release) grows the fencing token, an extension by the holder keeps it.
 */
const CLAIM = `INSERT INTO run_work (uid, owner, lease_expires, fence) VALUES ($1, $2, $3, 1)
  ON CONFLICT (uid) DO UPDATE SET owner = excluded.owner, lease_expires = excluded.lease_expires,
    fence = CASE WHEN run_work.owner = excluded.owner THEN run_work.fence ELSE run_work.fence + 1 END
  WHERE run_work.owner IS NULL OR run_work.owner = excluded.owner OR run_work.lease_expires <= $4
  RETURNING fence`;

/**
 * Claims, attempts and retention on PostgreSQL. A claim is taken by one upsert whose update only
 * happens when the row is free, expired or already ours; PostgreSQL serialises concurrent upserts
 * of one row (the later one re-checks the condition against the committed row), so of several
 * replicas racing for a run exactly one wins, without an explicit lock.
 */
export class PgRunWork implements RunClaims, IndexRetention {
  readonly #db: PgDb;
  readonly #now: () => number;

  constructor(options: { db: PgDb; now: () => number }) {
    this.#db = options.db;
    this.#now = options.now;
  }

  async claimRun(uid: string, owner: string, lease: number): Promise<ClaimResult> {
    const ms = leaseMs(uid, lease);
    const now = this.#now();
    const [row] = await this.#db.query<{ fence: number }>(`claiming run ${uid} for ${owner}`, CLAIM, [
      uid,
      owner,
      now + ms,
      now,
    ]);
    if (row) return { held: true, fence: Number(row.fence) };
    const [holder] = await this.#db.query<{ expires: number | null }>(
      `reading the claim on run ${uid}`,
      'SELECT lease_expires::float8 AS expires FROM run_work WHERE uid = $1',
      [uid],
    );
    return holder?.expires != null ? { held: false, expiresAt: new Date(holder.expires) } : { held: false };
  }

  async renewClaim(uid: string, { owner, fence }: Fence, lease: number): Promise<boolean> {
    const ms = leaseMs(uid, lease);
    const rows = await this.#db.query(
      `renewing claim on run ${uid} for ${owner}`,
      'UPDATE run_work SET lease_expires = $1 WHERE uid = $2 AND owner = $3 AND fence = $4 RETURNING uid',
      [this.#now() + ms, uid, owner, fence],
    );
    return rows.length > 0;
  }

  async holdsClaim(uid: string, { owner, fence }: Fence): Promise<boolean> {
    const rows = await this.#db.query(
      `checking the claim on run ${uid}`,
      'SELECT 1 FROM run_work WHERE uid = $1 AND owner = $2 AND fence = $3',
      [uid, owner, fence],
    );
    return rows.length > 0;
  }

  async releaseClaim(uid: string, owner: string): Promise<void> {
    await this.#db.query(
      `releasing claim on run ${uid} for ${owner}`,
      'UPDATE run_work SET owner = NULL, lease_expires = NULL WHERE uid = $1 AND owner = $2',
      [uid, owner],
    );
  }

  async getRunWork(uid: string): Promise<RunWork | undefined> {
    const [row] = await this.#db.query<RunWorkRow>(
      `reading work on run ${uid}`,
      `SELECT ${WORK_COLUMNS} FROM run_work WHERE uid = $1`,
      [uid],
    );
    return row ? toRunWork(row) : undefined;
  }

  async markRunDeleted(uid: string, at: Date): Promise<void> {
    await this.#db.query(
      `marking run ${uid} deleted`,
      `INSERT INTO run_work (uid, deleted_at) VALUES ($1, $2)
       ON CONFLICT (uid) DO UPDATE SET deleted_at = COALESCE(run_work.deleted_at, excluded.deleted_at)`,
      [uid, at.getTime()],
    );
  }

  /** One statement: replicas pruning at once skip each other's rows (SKIP LOCKED) rather than wait. */
  async pruneDeletedRuns(olderThan: Date, limit = 1000): Promise<PruneResult> {
    const [row] = await this.#db.query<{ runs: number; attestations: number }>(
      `pruning runs deleted before ${olderThan.toISOString()}`,
      `WITH gone AS (
         SELECT uid FROM run_work WHERE deleted_at < $1 ORDER BY deleted_at LIMIT $2 FOR UPDATE SKIP LOCKED
       ), att AS (
         DELETE FROM attestations a USING gone WHERE a.run_uid = gone.uid RETURNING a.namespace, a.payload_bytes
       ), usage AS (
         UPDATE namespace_usage u SET payload_bytes = u.payload_bytes - x.bytes
         FROM (SELECT namespace, SUM(payload_bytes) AS bytes FROM att GROUP BY namespace) x
         WHERE u.namespace = x.namespace
       ), states AS (
         DELETE FROM run_states r USING gone WHERE r.uid = gone.uid
       ), captures AS (
         DELETE FROM run_captures c USING gone WHERE c.uid = gone.uid
       ), logged AS (
         UPDATE log_entries l SET entry = NULL FROM gone WHERE l.run_uid = gone.uid
       ), work AS (
         DELETE FROM run_work w USING gone WHERE w.uid = gone.uid RETURNING 1
       )
       SELECT (SELECT count(*) FROM work)::int AS runs, (SELECT count(*) FROM att)::int AS attestations`,
      [olderThan.getTime(), limit],
    );
    return { runs: row.runs, attestations: row.attestations };
  }

  async payloadBytes(namespace: string): Promise<number> {
    const [row] = await this.#db.query<{ bytes: number }>(
      `reading payload bytes of namespace ${namespace}`,
      'SELECT payload_bytes::float8 AS bytes FROM namespace_usage WHERE namespace = $1',
      [namespace],
    );
    return row?.bytes ?? 0;
  }

  async capturedBytes(namespace: string): Promise<number> {
    const [row] = await this.#db.query<{ bytes: number }>(
      `reading captured bytes of namespace ${namespace}`,
      'SELECT capture_bytes::float8 AS bytes FROM namespace_usage WHERE namespace = $1',
      [namespace],
    );
    return row?.bytes ?? 0;
  }

  /** The database's size; PostgreSQL's volume is not visible from here (`index.volume-bytes` says it). */
  async storageBytes(): Promise<IndexStorage> {
    const [row] = await this.#db.query<{ bytes: number }>(
      'reading the index size',
      'SELECT pg_database_size(current_database())::float8 AS bytes',
    );
    return { databaseBytes: row?.bytes ?? 0 };
  }
}
