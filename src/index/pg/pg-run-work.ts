import { leaseMs } from '../index-input.ts';
import type { IndexRetention, PruneResult } from '../index-retention.ts';
import { type RunWorkRow, toRunWork } from '../index-rows.ts';
import type { RunClaims, RunWork } from '../run-claims.ts';
import type { PgDb } from './pg-connection.ts';

const WORK_COLUMNS = `uid, owner, lease_expires::float8 AS lease_expires, attempts,
  last_attempt_at::float8 AS last_attempt_at, next_attempt_at::float8 AS next_attempt_at,
  deleted_at::float8 AS deleted_at`;

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

  async claimRun(uid: string, owner: string, lease: number): Promise<boolean> {
    const ms = leaseMs(uid, lease);
    const now = this.#now();
    const rows = await this.#db.query(
      `claiming run ${uid} for ${owner}`,
      `INSERT INTO run_work (uid, owner, lease_expires) VALUES ($1, $2, $3)
       ON CONFLICT (uid) DO UPDATE SET owner = excluded.owner, lease_expires = excluded.lease_expires
       WHERE run_work.owner IS NULL OR run_work.owner = excluded.owner OR run_work.lease_expires <= $4
       RETURNING uid`,
      [uid, owner, now + ms, now],
    );
    return rows.length > 0;
  }

  async renewClaim(uid: string, owner: string, lease: number): Promise<boolean> {
    const ms = leaseMs(uid, lease);
    const rows = await this.#db.query(
      `renewing claim on run ${uid} for ${owner}`,
      'UPDATE run_work SET lease_expires = $1 WHERE uid = $2 AND owner = $3 RETURNING uid',
      [this.#now() + ms, uid, owner],
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

  async recordAttemptStarted(uid: string, at: Date, nextAttemptAt?: Date): Promise<number> {
    const [row] = await this.#db.query<{ attempts: number }>(
      `recording an attempt on run ${uid}`,
      `INSERT INTO run_work (uid, attempts, last_attempt_at, next_attempt_at) VALUES ($1, 1, $2, $3)
       ON CONFLICT (uid) DO UPDATE SET attempts = run_work.attempts + 1,
         last_attempt_at = excluded.last_attempt_at, next_attempt_at = excluded.next_attempt_at
       RETURNING attempts`,
      [uid, at.getTime(), nextAttemptAt?.getTime() ?? null],
    );
    return row.attempts;
  }

  async deferNextAttempt(uid: string, nextAttemptAt: Date): Promise<void> {
    await this.#db.query(
      `deferring the next attempt on run ${uid}`,
      `INSERT INTO run_work (uid, next_attempt_at) VALUES ($1, $2)
       ON CONFLICT (uid) DO UPDATE SET next_attempt_at = excluded.next_attempt_at`,
      [uid, nextAttemptAt.getTime()],
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
}
