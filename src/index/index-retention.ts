/**
 * How the index stays bounded: records of runs deleted from the cluster long ago are pruned, and
 * the stored payload bytes are counted per namespace so a cap can be enforced before storing.
 */
export interface PruneResult {
  /** runs whose records were removed */
  runs: number;
  /** attestations removed with them (their subjects go too) */
  attestations: number;
}

export interface IndexRetention {
  /** Notes that run `uid` was deleted from the cluster at `at` (the first note wins). */
  markRunDeleted(uid: string, at: Date): Promise<void>;
  /**
   * Removes everything recorded about up to `limit` (default 1000) runs deleted before
   * `olderThan`: attestations, run state, work record and captured copy. Call again while it returns runs > 0.
   */
  pruneDeletedRuns(olderThan: Date, limit?: number): Promise<PruneResult>;
  /** Bytes of DSSE envelopes (as stored, JSON) held for runs of `namespace`; 0 for an unknown namespace. */
  payloadBytes(namespace: string): Promise<number>;
  /**
   * Bytes of captured run objects (run-captures.ts, as stored) held for `namespace`; 0 for an
   * unknown namespace. A running total kept by the database itself (triggers), so every write path
   * (capture, prune, import) counts.
   */
  capturedBytes(namespace: string): Promise<number>;
  /** How much room the index takes, and the volume it lives on when the index can see it. */
  storageBytes(): Promise<IndexStorage>;
}

/** The index's size and, for a file-backed index, its volume (statfs of the index's directory). */
export interface IndexStorage {
  /** bytes the database holds in use (SQLite: pages in use; PostgreSQL: pg_database_size) */
  databaseBytes: number;
  /** the file system under the index; absent for PostgreSQL and an in-memory SQLite */
  volume?: { totalBytes: number; freeBytes: number };
}
