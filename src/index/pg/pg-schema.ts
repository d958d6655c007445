import { ObserverError } from '../../errors.ts';
import { CONTRACT_MIGRATIONS, newerSchemaRefusal, oldestCompatibleFor } from '../schema-compat.ts';
import type { PgDb } from './pg-connection.ts';

/**
 * The PostgreSQL schema as an append-only list of migrations, like sqlite-schema.ts: version n is
 * `PG_MIGRATIONS[n - 1]`; a released migration is never edited, only followed by a new one.
 * Times are BIGINT milliseconds since the epoch (the cursor format); ids, names and digests
 * compare bytewise (COLLATE "C") so orderings match SQLite's whatever the database's locale.
 */
export const PG_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE attestations (
    id             TEXT COLLATE "C" PRIMARY KEY,
    run_uid        TEXT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('TaskRun', 'PipelineRun')),
    namespace      TEXT NOT NULL,
    name           TEXT NOT NULL,
    predicate_type TEXT NOT NULL,
    key_id         TEXT NOT NULL,
    envelope       TEXT NOT NULL,
    storage        TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    payload_bytes  BIGINT NOT NULL
  );
  CREATE INDEX attestations_by_run ON attestations (namespace, kind, name, created_at DESC, id DESC);
  CREATE INDEX attestations_by_uid ON attestations (run_uid);

  CREATE TABLE subjects (
    attestation_id TEXT COLLATE "C" NOT NULL REFERENCES attestations (id) ON DELETE CASCADE,
    name           TEXT COLLATE "C" NOT NULL,
    digest         TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (attestation_id, name, digest)
  );

  CREATE TABLE subject_digests (
    digest         TEXT COLLATE "C" NOT NULL,
    created_at     BIGINT NOT NULL,
    attestation_id TEXT COLLATE "C" NOT NULL REFERENCES attestations (id) ON DELETE CASCADE,
    PRIMARY KEY (digest, created_at, attestation_id)
  );
  CREATE INDEX subject_digests_by_attestation ON subject_digests (attestation_id);

  CREATE TABLE run_states (
    uid        TEXT COLLATE "C" PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('TaskRun', 'PipelineRun')),
    namespace  TEXT NOT NULL,
    name       TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('attested', 'failed', 'pending')),
    attempts   INTEGER NOT NULL,
    last_error TEXT,
    updated_at BIGINT NOT NULL
  );
  CREATE INDEX run_states_by_run ON run_states (namespace, kind, name, updated_at DESC);

  CREATE TABLE run_work (
    uid             TEXT PRIMARY KEY,
    owner           TEXT,
    lease_expires   BIGINT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_attempt_at BIGINT,
    next_attempt_at BIGINT,
    deleted_at      BIGINT
  );
  CREATE INDEX run_work_by_deleted ON run_work (deleted_at) WHERE deleted_at IS NOT NULL;

  CREATE TABLE namespace_usage (
    namespace     TEXT PRIMARY KEY,
    payload_bytes BIGINT NOT NULL
  );
  `,
  // 2: copies of finished runs taken at first sight (run-captures.ts)
  `
  CREATE TABLE run_captures (
    uid         TEXT COLLATE "C" PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('TaskRun', 'PipelineRun')),
    namespace   TEXT NOT NULL,
    name        TEXT NOT NULL,
    object      TEXT NOT NULL,
    captured_at BIGINT NOT NULL
  );
  CREATE INDEX run_captures_by_run ON run_captures (namespace, kind, name, captured_at DESC);
  CREATE INDEX run_captures_by_time ON run_captures (captured_at);
  `,
  // 3: one run record: the retry spacing and the deferral clock move to run_states (run_work's
  // attempts, last_attempt_at and next_attempt_at are no longer read or written); claims carry a
  // fencing token that grows each time the claim changes hands.
  `
  ALTER TABLE run_states ADD COLUMN next_attempt_at BIGINT;
  ALTER TABLE run_states ADD COLUMN deferred_since BIGINT;
  ALTER TABLE run_states ADD COLUMN last_attempt_at BIGINT;
  UPDATE run_states s SET last_attempt_at = w.last_attempt_at,
    next_attempt_at = CASE WHEN s.status = 'pending' THEN w.next_attempt_at END
    FROM run_work w WHERE w.uid = s.uid;
  ALTER TABLE run_work ADD COLUMN fence BIGINT NOT NULL DEFAULT 0;
  `,
  // 4: the inputs left out of each attestation's provenance, with their reason codes (lookup API)
  `
  ALTER TABLE attestations ADD COLUMN skipped TEXT NOT NULL DEFAULT '[]';
  `,
  // 5: a TaskRun's Pod evidence, taken when the run was first seen finished and never replaced
  // (policy/pod-evidence.ts): the execution check reads it once the Pod is pruned. And each child
  // TaskRun's first sighting under its PipelineRun (policy/child-ownership.ts: `replaced`).
  `
  CREATE TABLE run_evidence (
    uid      TEXT PRIMARY KEY,
    evidence TEXT NOT NULL,
    taken_at BIGINT NOT NULL
  );
  CREATE TABLE run_sightings (
    namespace     TEXT NOT NULL,
    name          TEXT NOT NULL,
    parent_uid    TEXT NOT NULL,
    uid           TEXT NOT NULL,
    first_seen_at BIGINT NOT NULL,
    PRIMARY KEY (namespace, name, parent_uid, uid)
  );
  `,
  // 6: who signed each attestation (`observer`, or `chains` for one adopted from Tekton Chains), and
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
    updated_at BIGINT NOT NULL
  );
  `,
  // 7: a seal on every row that leads to a signature (seal/index-seal.ts): rows without one, or
  // with one that does not verify, are never used (the index is not a root of trust)
  `
  ALTER TABLE run_captures ADD COLUMN seal TEXT;
  ALTER TABLE run_evidence ADD COLUMN seal TEXT;
  ALTER TABLE run_sightings ADD COLUMN seal TEXT;
  `,
  // 8 (decision log, docs/log.md): as SQLite's 10. log_head's one row is locked FOR UPDATE by
  // every append, in the transaction that writes the fenced run record: one writer at a time
  // across replicas, and the sequence has no gaps.
  `
  CREATE TABLE log_entries (
    seq        BIGINT PRIMARY KEY,
    entry_key  TEXT COLLATE "C" NOT NULL UNIQUE,
    run_uid    TEXT NOT NULL,
    namespace  TEXT COLLATE "C" NOT NULL,
    type       TEXT NOT NULL,
    entry      TEXT,
    leaf_hash  TEXT NOT NULL,
    created_at BIGINT NOT NULL
  );
  CREATE INDEX log_entries_by_run ON log_entries (run_uid);
  CREATE INDEX log_entries_by_time ON log_entries (created_at);
  CREATE TABLE log_nodes (
    level INT NOT NULL,
    idx   BIGINT NOT NULL,
    hash  TEXT NOT NULL,
    PRIMARY KEY (level, idx)
  );
  CREATE TABLE log_head (id INT PRIMARY KEY CHECK (id = 1), size BIGINT NOT NULL);
  CREATE TABLE log_checkpoints (
    size       BIGINT PRIMARY KEY,
    note       TEXT NOT NULL,
    created_at BIGINT NOT NULL
  );
  `,
  // 9 (disk share) as SQLite's 11: captured run objects' bytes per namespace, kept by a trigger
  `
  ALTER TABLE namespace_usage ADD COLUMN capture_bytes BIGINT NOT NULL DEFAULT 0;
  INSERT INTO namespace_usage (namespace, payload_bytes, capture_bytes)
    SELECT namespace, 0, SUM(octet_length(object)) FROM run_captures GROUP BY namespace
    ON CONFLICT (namespace) DO UPDATE SET capture_bytes = excluded.capture_bytes;
  CREATE FUNCTION run_captures_usage() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
      UPDATE namespace_usage SET capture_bytes = capture_bytes - octet_length(OLD.object)
        WHERE namespace = OLD.namespace;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
      INSERT INTO namespace_usage (namespace, payload_bytes, capture_bytes)
        VALUES (NEW.namespace, 0, octet_length(NEW.object))
        ON CONFLICT (namespace) DO UPDATE SET capture_bytes = namespace_usage.capture_bytes + excluded.capture_bytes;
    END IF;
    RETURN NULL;
  END $$;
  CREATE TRIGGER run_captures_usage AFTER INSERT OR UPDATE OR DELETE ON run_captures
    FOR EACH ROW EXECUTE FUNCTION run_captures_usage();
  `,
];

/** Arbitrary constant naming this schema's advisory lock (pg_advisory_lock takes a bigint). */
const MIGRATION_LOCK = 0x70726f76; // "prov"

/**
 * Brings the database to the latest version this build knows, as migrate() does for SQLite
 * (schema-compat.ts: each version records `oldest_compatible`; a newer schema is run on as it is
 * when it says this build may, refused otherwise). Safe when several replicas start at once: each
 * takes a session advisory lock, so one migrates while the others wait, then find nothing to do.
 * Each migration commits with its version row. `known` is for tests that play an older build.
 */
export async function migratePg(
  db: PgDb,
  now: () => number = Date.now,
  known: { migrations: readonly string[]; contracts: ReadonlySet<number> } = {
    migrations: PG_MIGRATIONS,
    contracts: CONTRACT_MIGRATIONS,
  },
): Promise<number> {
  return db.session('migrating the schema', async (query) => {
    await query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      await query(`CREATE TABLE IF NOT EXISTS schema_migrations
        (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`);
      await query('ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS oldest_compatible INTEGER');
      const [row] = await query<{ v: number | null; o: number | null }>(
        `SELECT version AS v, oldest_compatible AS o FROM schema_migrations ORDER BY version DESC LIMIT 1`,
      );
      const current = row?.v ?? 0;
      const refusal = newerSchemaRefusal(current, row?.o ?? null, known.migrations.length);
      if (refusal)
        throw new ObserverError(`migrating the schema (index ${db.where}): ${refusal}`, {
          code: 'index',
          retryable: false,
        });
      let previous = row?.o ?? null;
      for (let v = current + 1; v <= known.migrations.length; v++) {
        previous = oldestCompatibleFor(v, previous, known.contracts);
        await query('BEGIN');
        try {
          await query(known.migrations[v - 1] as string);
          await query(
            'INSERT INTO schema_migrations (version, applied_at, oldest_compatible) VALUES ($1, $2, $3)',
            [v, now(), previous],
          );
          await query('COMMIT');
        } catch (err) {
          await query('ROLLBACK');
          throw err;
        }
      }
      return Math.max(current, known.migrations.length);
    } finally {
      await query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  });
}
