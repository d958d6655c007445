import { type PodEvidence, parsePodEvidence } from '../../policy/index.ts';
import { describeRun as describe, type RunKey } from '../../tekton/index.ts';
import { type CaptureRow, captureRows, evidenceRows, sightingRows, toCapture } from '../capture-input.ts';
import type { RunCapture, RunCaptures } from '../run-captures.ts';
import type { PgDb } from './pg-connection.ts';

const SETTLED = `EXISTS (SELECT 1 FROM run_states s WHERE s.uid = c.uid AND s.status IN ('attested', 'failed'))`;
const COLUMNS = 'c.uid, c.kind, c.namespace, c.name, c.object, c.captured_at::float8 AS captured_at';

/** The capture table on PostgreSQL: a batch is one statement (unnest of column arrays), so one commit. */
export class PgRunCaptures implements RunCaptures {
  readonly #db: PgDb;

  constructor(options: { db: PgDb }) {
    this.#db = options.db;
  }

  async captureRuns(captures: readonly RunCapture[]): Promise<void> {
    const rows = captureRows(captures);
    if (rows.length === 0) return;
    const columns = rows[0].map((_, i) => rows.map((r) => r[i]));
    const evidence = evidenceRows(captures);
    const evidenceColumns = [0, 1, 2].map((i) => evidence.map((r) => r[i]));
    const sightings = sightingRows(captures);
    const sightingColumns = [0, 1, 2, 3, 4].map((i) => sightings.map((r) => r[i]));
    // one statement, so one commit: the captures, and each run's first evidence (never replaced)
    await this.#db.query(
      `capturing ${rows.length} run(s)`,
      `WITH captured AS (
         INSERT INTO run_captures (uid, kind, namespace, name, object, captured_at)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[])
         ON CONFLICT (uid) DO UPDATE SET kind = excluded.kind, namespace = excluded.namespace,
           name = excluded.name, object = excluded.object, captured_at = excluded.captured_at
         RETURNING 1),
       sighted AS (
         INSERT INTO run_sightings (namespace, name, parent_uid, uid, first_seen_at)
         SELECT * FROM unnest($10::text[], $11::text[], $12::text[], $13::text[], $14::bigint[])
         ON CONFLICT DO NOTHING
         RETURNING 1)
       INSERT INTO run_evidence (uid, evidence, taken_at)
       SELECT * FROM unnest($7::text[], $8::text[], $9::bigint[])
       ON CONFLICT (uid) DO NOTHING`,
      [...columns, ...evidenceColumns, ...sightingColumns],
    );
  }

  async firstChildSighting(run: RunKey, parentUid: string): Promise<{ uid: string; at: Date } | undefined> {
    const [row] = await this.#db.query<{ uid: string; first_seen_at: string }>(
      `reading the first sighting of ${describe(run)}`,
      `SELECT uid, first_seen_at::float8 AS first_seen_at FROM run_sightings
       WHERE namespace = $1 AND name = $2 AND parent_uid = $3 ORDER BY first_seen_at, uid LIMIT 1`,
      [run.namespace, run.name, parentUid],
    );
    return row ? { uid: row.uid, at: new Date(Number(row.first_seen_at)) } : undefined;
  }

  async findRunEvidence(uid: string): Promise<PodEvidence | undefined> {
    const [row] = await this.#db.query<{ evidence: string }>(
      `reading the Pod evidence of run ${uid}`,
      'SELECT evidence FROM run_evidence WHERE uid = $1',
      [uid],
    );
    return row ? parsePodEvidence(JSON.parse(row.evidence)) : undefined;
  }

  async findCapturedRun(run: RunKey): Promise<RunCapture | undefined> {
    const [row] = await this.#db.query<CaptureRow>(
      `reading the captured copy of ${describe(run)}`,
      `SELECT ${COLUMNS} FROM run_captures c WHERE c.namespace = $1 AND c.kind = $2 AND c.name = $3
       ORDER BY ${SETTLED} ASC, c.captured_at DESC, c.uid DESC LIMIT 1`,
      [run.namespace, run.kind, run.name],
    );
    return row ? toCapture(row) : undefined;
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
