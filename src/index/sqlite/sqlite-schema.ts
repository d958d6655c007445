import type { DatabaseSync } from 'node:sqlite';
import { CONTRACT_MIGRATIONS, newerSchemaRefusal, oldestCompatibleFor } from '../schema-compat.ts';

/**
 * The SQLite schema as an append-only list of migrations. Version n is `MIGRATIONS[n - 1]`;
 * a released migration is never edited, only followed by a new one. `migrate` is safe to run
 * from several processes opening the same file at once: it takes the write lock first
 * (BEGIN IMMEDIATE) and re-reads the version under it.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE attestations (
    id             TEXT PRIMARY KEY,
    run_uid        TEXT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('TaskRun', 'PipelineRun')),
    namespace      TEXT NOT NULL,
    name           TEXT NOT NULL,
    predicate_type TEXT NOT NULL,
    key_id         TEXT NOT NULL,
    envelope       TEXT NOT NULL,
    storage        TEXT NOT NULL,
    created_at     INTEGER NOT NULL
  );
  CREATE INDEX attestations_by_run ON attestations (namespace, kind, name, created_at DESC, id DESC);
  CREATE INDEX attestations_by_uid ON attestations (run_uid);
  CREATE INDEX attestations_by_time ON attestations (created_at DESC, id DESC);

  CREATE TABLE subjects (
    attestation_id TEXT NOT NULL REFERENCES attestations (id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    digest         TEXT NOT NULL,
    PRIMARY KEY (attestation_id, name, digest)
  );
  CREATE INDEX subjects_by_digest ON subjects (digest, attestation_id);

  CREATE TABLE run_states (
    uid        TEXT PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('TaskRun', 'PipelineRun')),
    namespace  TEXT NOT NULL,
    name       TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('attested', 'failed', 'pending')),
    attempts   INTEGER NOT NULL,
    last_error TEXT,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX run_states_by_run ON run_states (namespace, kind, name, updated_at DESC);
  `,
  // 2: digest lookups in keyset order straight from one index. Filtering `attestations` through an
  // IN (subjects) list sorted every match per page: 140 ms a page at 20 000 matches.
  `
  CREATE TABLE subject_digests (
    digest         TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    attestation_id TEXT NOT NULL REFERENCES attestations (id) ON DELETE CASCADE,
    PRIMARY KEY (digest, created_at, attestation_id)
  ) WITHOUT ROWID;
  INSERT OR IGNORE INTO subject_digests (digest, created_at, attestation_id)
    SELECT DISTINCT s.digest, a.created_at, a.id FROM subjects s JOIN attestations a ON a.id = s.attestation_id;
  DROP INDEX subjects_by_digest;
  `,
  // 3: claims and durable attempts per run (HA), deletion marks for retention, payload bytes per
  // namespace (kept as a running total: a SUM per attestation would scan the namespace).
  `
  ALTER TABLE attestations ADD COLUMN payload_bytes INTEGER NOT NULL DEFAULT 0;
  UPDATE attestations SET payload_bytes = length(CAST(envelope AS BLOB));
  CREATE TABLE namespace_usage (
    namespace     TEXT PRIMARY KEY,
    payload_bytes INTEGER NOT NULL
  );
  INSERT INTO namespace_usage (namespace, payload_bytes)
    SELECT namespace, SUM(payload_bytes) FROM attestations GROUP BY namespace;
  CREATE TABLE run_work (
    uid             TEXT PRIMARY KEY,
    owner           TEXT,
    lease_expires   INTEGER,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_attempt_at INTEGER,
    next_attempt_at INTEGER,
    deleted_at      INTEGER
  );
  CREATE INDEX run_work_by_deleted ON run_work (deleted_at) WHERE deleted_at IS NOT NULL;
  `,
  // 4: copies of finished runs taken at first sight (run-captures.ts), so a run deleted before it
  // is reconciled is attested from its copy.
  `
  CREATE TABLE run_captures (
    uid         TEXT PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('TaskRun', 'PipelineRun')),
    namespace   TEXT NOT NULL,
    name        TEXT NOT NULL,
    object      TEXT NOT NULL,
    captured_at INTEGER NOT NULL
  );
  CREATE INDEX run_captures_by_run ON run_captures (namespace, kind, name, captured_at DESC);
  CREATE INDEX run_captures_by_time ON run_captures (captured_at);
  `,
  // 5: one run record: the retry spacing and the deferral clock move to run_states (run_work's
  // attempts, last_attempt_at and next_attempt_at are no longer read or written); claims carry a
  // fencing token that grows each time the claim changes hands.
  `
  ALTER TABLE run_states ADD COLUMN next_attempt_at INTEGER;
  ALTER TABLE run_states ADD COLUMN deferred_since INTEGER;
  ALTER TABLE run_states ADD COLUMN last_attempt_at INTEGER;
  UPDATE run_states SET
    next_attempt_at = (SELECT w.next_attempt_at FROM run_work w WHERE w.uid = run_states.uid AND status = 'pending'),
    last_attempt_at = (SELECT w.last_attempt_at FROM run_work w WHERE w.uid = run_states.uid);
  ALTER TABLE run_work ADD COLUMN fence INTEGER NOT NULL DEFAULT 0;
  `,
  // 6: the inputs left out of each attestation's provenance, with their reason codes (lookup API)
  `
  ALTER TABLE attestations ADD COLUMN skipped TEXT NOT NULL DEFAULT '[]';
  `,
  // 7: a TaskRun's Pod evidence, taken when the run was first seen finished and never replaced
  // (policy/pod-evidence.ts): the execution check reads it once the Pod is pruned. And each child
  // TaskRun's first sighting under its PipelineRun (policy/child-ownership.ts: `replaced`).
  `
  CREATE TABLE run_evidence (
    uid      TEXT PRIMARY KEY,
    evidence TEXT NOT NULL,
    taken_at INTEGER NOT NULL
  );
  CREATE TABLE run_sightings (
    namespace     TEXT NOT NULL,
    name          TEXT NOT NULL,
    parent_uid    TEXT NOT NULL,
    uid           TEXT NOT NULL,
    first_seen_at INTEGER NOT NULL,
    PRIMARY KEY (namespace, name, parent_uid, uid)
  );
  `,
  // 8: who signed each attestation (`observer`, or `chains` for one adopted from Tekton Chains), and
  // the progress of each `resign` job (cli/resign/), so a killed resign continues where it stopped.
  `
  ALTER TABLE attestations ADD COLUMN origin TEXT NOT NULL DEFAULT 'observer';
  CREATE TABLE resign_jobs (
    id         TEXT PRIMARY KEY,
    selection  TEXT NOT NULL,
    cursor     TEXT,
    resigned   INTEGER NOT NULL DEFAULT 0,
    current    INTEGER NOT NULL DEFAULT 0,
    failed     INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL
  );
  `,
  // 9: a seal on every row that leads to a signature (seal/index-seal.ts): rows without one, or
  // with one that does not verify, are never used (the index is not a root of trust)
  `
  ALTER TABLE run_captures ADD COLUMN seal TEXT;
  ALTER TABLE run_evidence ADD COLUMN seal TEXT;
  ALTER TABLE run_sightings ADD COLUMN seal TEXT;
  `,
  // 10 (decision log, docs/log.md): every decision as an RFC 6962 leaf. log_entries holds each
  // entry's canonical JSON (NULL once its run is pruned: the leaf hash stays), log_nodes every
  // complete subtree's hash (proofs read O(log n) of them), log_head the tree size (one row, made by
  // the first append; none = 0), log_checkpoints the signed checkpoints. Hashes are lowercase hex
  // (TEXT: `index export` writes rows as JSON).
  `
  CREATE TABLE log_entries (
    seq        INTEGER PRIMARY KEY,
    entry_key  TEXT NOT NULL UNIQUE,
    run_uid    TEXT NOT NULL,
    namespace  TEXT NOT NULL,
    type       TEXT NOT NULL,
    entry      TEXT,
    leaf_hash  TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX log_entries_by_run ON log_entries (run_uid);
  CREATE INDEX log_entries_by_time ON log_entries (created_at);
  CREATE TABLE log_nodes (
    level INTEGER NOT NULL,
    idx   INTEGER NOT NULL,
    hash  TEXT NOT NULL,
    PRIMARY KEY (level, idx)
  ) WITHOUT ROWID;
  CREATE TABLE log_head (id INTEGER PRIMARY KEY CHECK (id = 1), size INTEGER NOT NULL);
  CREATE TABLE log_checkpoints (
    size       INTEGER PRIMARY KEY,
    note       TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  `,
  // 11 (disk share, reconcile/disk-share.ts) the bytes of captured run objects per namespace, kept by
  // triggers on run_captures as a running total beside the envelopes' payload_bytes: captured
  // copies count toward their namespace's use of the index's disk.
  `
  ALTER TABLE namespace_usage ADD COLUMN capture_bytes INTEGER NOT NULL DEFAULT 0;
  INSERT INTO namespace_usage (namespace, payload_bytes, capture_bytes)
    SELECT namespace, 0, SUM(length(CAST(object AS BLOB))) FROM run_captures WHERE true GROUP BY namespace
    ON CONFLICT (namespace) DO UPDATE SET capture_bytes = excluded.capture_bytes;
  CREATE TRIGGER run_captures_usage_insert AFTER INSERT ON run_captures BEGIN
    INSERT INTO namespace_usage (namespace, payload_bytes, capture_bytes)
      VALUES (NEW.namespace, 0, length(CAST(NEW.object AS BLOB)))
      ON CONFLICT (namespace) DO UPDATE SET capture_bytes = capture_bytes + excluded.capture_bytes;
  END;
  CREATE TRIGGER run_captures_usage_update AFTER UPDATE OF namespace, object ON run_captures BEGIN
    UPDATE namespace_usage SET capture_bytes = capture_bytes - length(CAST(OLD.object AS BLOB))
      WHERE namespace = OLD.namespace;
    INSERT INTO namespace_usage (namespace, payload_bytes, capture_bytes)
      VALUES (NEW.namespace, 0, length(CAST(NEW.object AS BLOB)))
      ON CONFLICT (namespace) DO UPDATE SET capture_bytes = capture_bytes + excluded.capture_bytes;
  END;
  CREATE TRIGGER run_captures_usage_delete AFTER DELETE ON run_captures BEGIN
    UPDATE namespace_usage SET capture_bytes = capture_bytes - length(CAST(OLD.object AS BLOB))
      WHERE namespace = OLD.namespace;
  END;
  `,
];

/** Current schema version of an open database (0 when empty). */
export function schemaVersion(db: DatabaseSync): number {
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)',
  );
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null };
  return row.v ?? 0;
}

/**
 * Brings the database to the latest version this build knows, recording each migration's
 * `oldest_compatible` (schema-compat.ts). A database already at a newer version is left as it is
 * when its latest row says this build's code may run on it (expand-only migrations since), and
 * refused (without changing anything) otherwise. `known` is for tests that play an older build.
 */
export function migrate(
  db: DatabaseSync,
  now: () => number = Date.now,
  known: { migrations: readonly string[]; contracts: ReadonlySet<number> } = {
    migrations: MIGRATIONS,
    contracts: CONTRACT_MIGRATIONS,
  },
): number {
  db.exec('BEGIN IMMEDIATE');
  try {
    const current = schemaVersion(db);
    ensureCompatColumn(db);
    const oldest =
      (
        db.prepare('SELECT oldest_compatible AS o FROM schema_migrations WHERE version = ?').get(current) as
          | { o: number | null }
          | undefined
      )?.o ?? null;
    const refusal = newerSchemaRefusal(
      current,
      current > known.migrations.length ? oldest : 1,
      known.migrations.length,
    );
    if (refusal) throw new Error(refusal);
    const record = db.prepare(
      'INSERT INTO schema_migrations (version, applied_at, oldest_compatible) VALUES (?, ?, ?)',
    );
    let previous = oldest;
    for (let v = current + 1; v <= known.migrations.length; v++) {
      db.exec(known.migrations[v - 1] as string);
      previous = oldestCompatibleFor(v, previous, known.contracts);
      record.run(v, now(), previous);
    }
    db.exec('COMMIT');
    return Math.max(current, known.migrations.length);
  } catch (err) {
    db.exec('ROLLBACK');
    throw err;
  }
}

/** Adds `oldest_compatible` to schema_migrations when a file from before it is opened. */
function ensureCompatColumn(db: DatabaseSync): void {
  const columns = db.prepare('PRAGMA table_info(schema_migrations)').all() as { name: string }[];
  if (!columns.some((c) => c.name === 'oldest_compatible'))
    db.exec('ALTER TABLE schema_migrations ADD COLUMN oldest_compatible INTEGER');
}
