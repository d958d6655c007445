import { describeRun as describe, type RunKey } from '../../tekton/index.ts';
import { type CaptureRow, captureRows, toCapture } from '../capture-input.ts';
import type { RunCapture, RunCaptures } from '../run-captures.ts';
import type { SqliteDb } from './sqlite-db.ts';

const SETTLED = `EXISTS (SELECT 1 FROM run_states s WHERE s.uid = c.uid AND s.status IN ('attested', 'failed'))`;

/** The capture table on SQLite: a batch is one BEGIN IMMEDIATE … COMMIT. */
export class SqliteRunCaptures implements RunCaptures {
  readonly #db: SqliteDb;

  constructor(options: { db: SqliteDb }) {
    this.#db = options.db;
  }

  async captureRuns(captures: readonly RunCapture[]): Promise<void> {
    const rows = captureRows(captures);
    if (rows.length === 0) return;
    this.#db.write(`capturing ${rows.length} run(s)`, () => {
      const upsert =
        this.#db.stmt(`INSERT INTO run_captures (uid, kind, namespace, name, object, captured_at) VALUES (?, ?, ?, ?, ?, ?)
          ON CONFLICT (uid) DO UPDATE SET kind = excluded.kind, namespace = excluded.namespace,
            name = excluded.name, object = excluded.object, captured_at = excluded.captured_at`);
      for (const row of rows) upsert.run(...row);
    });
  }

  async findCapturedRun(run: RunKey): Promise<RunCapture | undefined> {
    const row = this.#db.read(`reading the captured copy of ${describe(run)}`, () =>
      this.#db
        .stmt(`SELECT c.* FROM run_captures c WHERE c.namespace = ? AND c.kind = ? AND c.name = ?
          ORDER BY ${SETTLED} ASC, c.captured_at DESC, c.uid DESC LIMIT 1`)
        .get(run.namespace, run.kind, run.name),
    );
    return row ? toCapture(row as unknown as CaptureRow) : undefined;
  }

  async unsettledCaptures(limit = 10_000): Promise<(RunKey & { uid: string })[]> {
    return this.#db.read('listing captured runs not settled', () =>
      this.#db
        .stmt(`SELECT c.uid, c.kind, c.namespace, c.name FROM run_captures c WHERE NOT ${SETTLED}
          ORDER BY c.captured_at, c.uid LIMIT ?`)
        .all(limit),
    ) as unknown as (RunKey & { uid: string })[];
  }

  async pruneCaptures(cut: { deletedBefore: Date; capturedBefore: Date }, limit = 1000): Promise<number> {
    return this.#db.write('pruning captured runs', () => {
      const result = this.#db
        .stmt(`DELETE FROM run_captures WHERE uid IN (
            SELECT c.uid FROM run_captures c LEFT JOIN run_work w ON w.uid = c.uid
            WHERE ${SETTLED} AND (w.deleted_at < ? OR c.captured_at < ?) LIMIT ?)`)
        .run(cut.deletedBefore.getTime(), cut.capturedBefore.getTime(), limit);
      return Number(result.changes);
    });
  }
}
