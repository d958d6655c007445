import { dirname } from 'node:path';
import type { Fence } from '../../model/index.ts';
import { leaseMs } from '../index-input.ts';
import type { IndexRetention, IndexStorage, PruneResult } from '../index-retention.ts';
import { type RunWorkRow, toRunWork } from '../index-rows.ts';
import type { ClaimResult, RunClaims, RunWork } from '../run-claims.ts';
import type { SqliteDb } from './sqlite-db.ts';
import { VolumeReading } from './volume-reading.ts';

/**
 * Takes the claim when it is free, expired or already this owner's; a take from anyone else (or
 * after a release) grows the fencing token, an extension by the holder keeps it.
 */
export const CLAIM = `INSERT INTO run_work (uid, owner, lease_expires, fence) VALUES (?, ?, ?, 1)
  ON CONFLICT (uid) DO UPDATE SET owner = excluded.owner, lease_expires = excluded.lease_expires,
    fence = CASE WHEN run_work.owner = excluded.owner THEN run_work.fence ELSE run_work.fence + 1 END
  WHERE run_work.owner IS NULL OR run_work.owner = excluded.owner OR run_work.lease_expires <= ?
  RETURNING fence`;

/**
 * Claims, attempts and retention on SQLite. Every write runs under BEGIN IMMEDIATE, so the
 * check-and-take of a claim is atomic across connections and processes sharing the file.
 */
export class SqliteRunWork implements RunClaims, IndexRetention {
  readonly #db: SqliteDb;
  readonly #now: () => number;
  readonly #volume: VolumeReading;

  constructor(options: { db: SqliteDb; now: () => number }) {
    this.#db = options.db;
    this.#now = options.now;
    this.#volume = new VolumeReading({ dir: dirname(options.db.path) });
  }

  async claimRun(uid: string, owner: string, lease: number): Promise<ClaimResult> {
    const ms = leaseMs(uid, lease);
    return this.#db.write(`claiming run ${uid} for ${owner}`, (): ClaimResult => {
      const now = this.#now();
      const row = this.#db.stmt(CLAIM).get(uid, owner, now + ms, now) as { fence: number } | undefined;
      if (row) return { held: true, fence: Number(row.fence) };
      const holder = this.#db.stmt('SELECT lease_expires FROM run_work WHERE uid = ?').get(uid) as
        | { lease_expires: number | null }
        | undefined;
      return holder?.lease_expires != null
        ? { held: false, expiresAt: new Date(Number(holder.lease_expires)) }
        : { held: false };
    });
  }

  async renewClaim(uid: string, { owner, fence }: Fence, lease: number): Promise<boolean> {
    const ms = leaseMs(uid, lease);
    return this.#db.write(`renewing claim on run ${uid} for ${owner}`, () => {
      const result = this.#db
        .stmt('UPDATE run_work SET lease_expires = ? WHERE uid = ? AND owner = ? AND fence = ?')
        .run(this.#now() + ms, uid, owner, fence);
      return Number(result.changes) > 0;
    });
  }

  async releaseClaim(uid: string, owner: string): Promise<void> {
    this.#db.write(`releasing claim on run ${uid} for ${owner}`, () => {
      this.#db
        .stmt('UPDATE run_work SET owner = NULL, lease_expires = NULL WHERE uid = ? AND owner = ?')
        .run(uid, owner);
    });
  }

  async getRunWork(uid: string): Promise<RunWork | undefined> {
    const row = this.#db.read(`reading work on run ${uid}`, () =>
      this.#db.stmt('SELECT * FROM run_work WHERE uid = ?').get(uid),
    );
    return row ? toRunWork(row as unknown as RunWorkRow) : undefined;
  }

  async markRunDeleted(uid: string, at: Date): Promise<void> {
    this.#db.write(`marking run ${uid} deleted`, () => {
      this.#db
        .stmt(`INSERT INTO run_work (uid, deleted_at) VALUES (?, ?)
          ON CONFLICT (uid) DO UPDATE SET deleted_at = COALESCE(run_work.deleted_at, excluded.deleted_at)`)
        .run(uid, at.getTime());
    });
  }

  async pruneDeletedRuns(olderThan: Date, limit = 1000): Promise<PruneResult> {
    return this.#db.write(`pruning runs deleted before ${olderThan.toISOString()}`, () => {
      const uids = this.#db
        .stmt('SELECT uid FROM run_work WHERE deleted_at < ? ORDER BY deleted_at LIMIT ?')
        .all(olderThan.getTime(), limit) as { uid: string }[];
      let attestations = 0;
      for (const { uid } of uids) attestations += this.#pruneRun(uid);
      return { runs: uids.length, attestations };
    });
  }

  async payloadBytes(namespace: string): Promise<number> {
    const row = this.#db.read(`reading payload bytes of namespace ${namespace}`, () =>
      this.#db.stmt('SELECT payload_bytes FROM namespace_usage WHERE namespace = ?').get(namespace),
    ) as { payload_bytes: number } | undefined;
    return row?.payload_bytes ?? 0;
  }

  async capturedBytes(namespace: string): Promise<number> {
    const row = this.#db.read(`reading captured bytes of namespace ${namespace}`, () =>
      this.#db.stmt('SELECT capture_bytes FROM namespace_usage WHERE namespace = ?').get(namespace),
    ) as { capture_bytes: number } | undefined;
    return row?.capture_bytes ?? 0;
  }

  async storageBytes(): Promise<IndexStorage> {
    const pages = this.#db.read('reading the index size', () => ({
      count: (this.#db.stmt('PRAGMA page_count').get() as { page_count: number }).page_count,
      free: (this.#db.stmt('PRAGMA freelist_count').get() as { freelist_count: number }).freelist_count,
      size: (this.#db.stmt('PRAGMA page_size').get() as { page_size: number }).page_size,
    }));
    const databaseBytes = (pages.count - pages.free) * pages.size;
    if (this.#db.path === ':memory:') return { databaseBytes };
    return { databaseBytes, volume: await this.#volume.volume(pages.count * pages.size) };
  }

  /** Inside a write: removes one run's records; returns how many attestations went. */
  #pruneRun(uid: string): number {
    const usage = this.#db
      .stmt(`SELECT namespace, SUM(payload_bytes) AS bytes FROM attestations WHERE run_uid = ?
        GROUP BY namespace`)
      .all(uid) as { namespace: string; bytes: number }[];
    for (const u of usage)
      this.#db
        .stmt('UPDATE namespace_usage SET payload_bytes = payload_bytes - ? WHERE namespace = ?')
        .run(u.bytes, u.namespace);
    const removed = this.#db.stmt('DELETE FROM attestations WHERE run_uid = ?').run(uid);
    this.#db.stmt('DELETE FROM run_states WHERE uid = ?').run(uid);
    this.#db.stmt('DELETE FROM run_work WHERE uid = ?').run(uid);
    this.#db.stmt('DELETE FROM run_captures WHERE uid = ?').run(uid);
    // the decision log keeps the run's leaves (proofs stay valid), not their contents
    this.#db.stmt('UPDATE log_entries SET entry = NULL WHERE run_uid = ?').run(uid);
    return Number(removed.changes);
  }
}
