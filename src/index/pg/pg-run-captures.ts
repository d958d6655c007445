import { describeRun as describe, type RunKey } from '../../tekton/index.ts';
import { type CaptureRow, captureRows, toCapture } from '../capture-input.ts';
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
    await this.#db.query(
      `capturing ${rows.length} run(s)`,
      `INSERT INTO run_captures (uid, kind, namespace, name, object, captured_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[])
       ON CONFLICT (uid) DO UPDATE SET kind = excluded.kind, namespace = excluded.namespace,
         name = excluded.name, object = excluded.object, captured_at = excluded.captured_at`,
      columns,
    );
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
    return rows.length;
  }
}
