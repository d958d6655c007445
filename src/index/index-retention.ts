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
}
