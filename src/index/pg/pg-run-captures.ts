import type { PodEvidence } from '../../policy/index.ts';
import { describeRun as describe, type RunKey } from '../../tekton/index.ts';
import {
  type CaptureRow,
  captureRows,
  type EvidenceRow,
  evidenceRows,
  firstSealedCapture,
  firstSealedSighting,
  type SightingRow,
  sealedEvidence,
  sightingRows,
} from '../capture-input.ts';
import type { CapturedVersion, RunCapture, RunCaptures } from '../run-captures.ts';
import type { IndexSeal } from '../seal/index-seal.ts';
import type { PgDb } from './pg-connection.ts';

const SETTLED = `EXISTS (SELECT 1 FROM run_states s WHERE s.uid = c.uid AND s.status IN ('attested', 'failed'))`;
const COLUMNS = 'c.uid, c.kind, c.namespace, c.name, c.object, c.captured_at::float8 AS captured_at, c.seal';
/**
 * The resourceVersion of a capture row's object. A copy is replaced only by another version (or
 * when either has none): the replicas that saw the same version at once (every replica sees every
 * run) leave the row as the first one wrote it, so the run costs one row write whatever the
 * replica count.
 */
const VERSION = (row: string) => `(${row}.object::json -> 'metadata' ->> 'resourceVersion')`;
/** Rows read per look-up, so a row that fails its seal does not hide a sound one behind it. */
const CANDIDATES = 4;

/**
 * The capture table on PostgreSQL: a batch is one statement (unnest of column arrays), so one
 * commit. Every row is sealed when written and checked when read (seal/index-seal.ts): a row that
 * fails its seal is reported and never returned.
 */
export class PgRunCaptures implements RunCaptures {
  readonly #db: PgDb;
  readonly #seal: IndexSeal;

  constructor(options: { db: PgDb; seal: IndexSeal }) {
    this.#db = options.db;
    this.#seal = options.seal;
  }

  async captureRuns(captures: readonly RunCapture[]): Promise<void> {
    const rows = captureRows(captures, this.#seal);
    if (rows.length === 0) return;
    const columns = rows[0].map((_, i) => rows.map((r) => r[i]));
    const evidence = evidenceRows(captures, this.#seal);
    const evidenceColumns = [0, 1, 2, 3].map((i) => evidence.map((r) => r[i]));
    const sightings = sightingRows(captures, this.#seal);
    const sightingColumns = [0, 1, 2, 3, 4, 5].map((i) => sightings.map((r) => r[i]));
    // one statement, so one commit: the captures, and each run's first evidence (never replaced)
    await this.#db.query(
      `capturing ${rows.length} run(s)`,
      `WITH captured AS (
         INSERT INTO run_captures (uid, kind, namespace, name, object, captured_at, seal)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[])
         ON CONFLICT (uid) DO UPDATE SET kind = excluded.kind, namespace = excluded.namespace,
           name = excluded.name, object = excluded.object, captured_at = excluded.captured_at,
           seal = excluded.seal
         WHERE ${VERSION('run_captures')} IS NULL OR ${VERSION('run_captures')} IS DISTINCT FROM ${VERSION('excluded')}
         RETURNING 1),
       sighted AS (
         INSERT INTO run_sightings (namespace, name, parent_uid, uid, first_seen_at, seal)
         SELECT * FROM unnest($12::text[], $13::text[], $14::text[], $15::text[], $16::bigint[], $17::text[])
         ON CONFLICT DO NOTHING
         RETURNING 1)
       INSERT INTO run_evidence (uid, evidence, taken_at, seal)
       SELECT * FROM unnest($8::text[], $9::text[], $10::bigint[], $11::text[])
       ON CONFLICT (uid) DO NOTHING`,
      [...columns, ...evidenceColumns, ...sightingColumns],
    );
  }

  async capturedVersions(uids: readonly string[]): Promise<Map<string, CapturedVersion>> {
    if (uids.length === 0) return new Map();
    // the version is read out of the stored object (sealed with it), so no column of its own
    const rows = await this.#db.query<{ uid: string; resource_version: string | null; evidence: boolean }>(
      `checking ${uids.length} capture(s)`,
      // both tables by their key (an EXISTS subquery was planned as a hash of all evidence rows)
      `SELECT c.uid, c.object::json -> 'metadata' ->> 'resourceVersion' AS resource_version,
         e.uid IS NOT NULL AS evidence
       FROM run_captures c LEFT JOIN run_evidence e ON e.uid = c.uid AND e.uid = ANY($1::text[])
       WHERE c.uid = ANY($1::text[])`,
      [uids],
    );
    return new Map(
      rows.map((r) => [
        r.uid,
        {
          ...(r.resource_version === null ? {} : { resourceVersion: r.resource_version }),
          evidence: r.evidence,
        },
      ]),
    );
  }

  async firstChildSighting(run: RunKey, parentUid: string): Promise<{ uid: string; at: Date } | undefined> {
    const rows = await this.#db.query<SightingRow>(
      `reading the first sighting of ${describe(run)}`,
      `SELECT namespace, name, parent_uid, uid, first_seen_at::float8 AS first_seen_at, seal FROM run_sightings
       WHERE namespace = $1 AND name = $2 AND parent_uid = $3 ORDER BY first_seen_at, uid LIMIT $4`,
      [run.namespace, run.name, parentUid, CANDIDATES],
    );
    return firstSealedSighting(rows, this.#seal);
  }

  async findRunEvidence(uid: string, run?: RunKey): Promise<PodEvidence | undefined> {
    const [row] = await this.#db.query<EvidenceRow>(
      `reading the Pod evidence of run ${uid}`,
      'SELECT uid, evidence, taken_at::float8 AS taken_at, seal FROM run_evidence WHERE uid = $1',
      [uid],
    );
    return row ? sealedEvidence(row, this.#seal, run) : undefined;
  }

  async findCapturedRun(run: RunKey): Promise<RunCapture | undefined> {
    const rows = await this.#db.query<CaptureRow>(
      `reading the captured copy of ${describe(run)}`,
      `SELECT ${COLUMNS} FROM run_captures c WHERE c.namespace = $1 AND c.kind = $2 AND c.name = $3
       ORDER BY ${SETTLED} ASC, c.captured_at DESC, c.uid DESC LIMIT $4`,
      [run.namespace, run.kind, run.name, CANDIDATES],
    );
    return firstSealedCapture(rows, this.#seal);
  }

  async unsettledCaptures(limit = 10_000): Promise<(RunKey & { uid: string })[]> {
    return this.#db.query<RunKey & { uid: string }>(
      'listing captured runs not settled',
      `SELECT c.uid, c.kind, c.namespace, c.name FROM run_captures c WHERE NOT ${SETTLED}
       ORDER BY c.captured_at, c.uid LIMIT $1`,
      [limit],
    );
  }

  async pruneCaptures(cut: { deletedBefore: Date; capturedBefore: Date }, limit = 1000): Promise<number> {
    const rows = await this.#db.query(
      'pruning captured runs',
      `DELETE FROM run_captures WHERE uid IN (
         SELECT c.uid FROM run_captures c LEFT JOIN run_work w ON w.uid = c.uid
         WHERE ${SETTLED} AND (w.deleted_at < $1 OR c.captured_at < $2) LIMIT $3)
       RETURNING uid`,
      [cut.deletedBefore.getTime(), cut.capturedBefore.getTime(), limit],
    );
    // evidence lives as long as its capture
    if (rows.length)
      await this.#db.query(
        'pruning Pod evidence',
        'DELETE FROM run_evidence e WHERE NOT EXISTS (SELECT 1 FROM run_captures c WHERE c.uid = e.uid)',
      );
    if (rows.length)
      await this.#db.query(
        'pruning child sightings',
        'DELETE FROM run_sightings s WHERE NOT EXISTS (SELECT 1 FROM run_captures c WHERE c.uid = s.uid)',
      );
    return rows.length;
  }
}
