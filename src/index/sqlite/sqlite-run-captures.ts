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
import type { RunCapture, RunCaptures } from '../run-captures.ts';
import type { IndexSeal } from '../seal/index-seal.ts';
import type { SqliteDb } from './sqlite-db.ts';

const SETTLED = `EXISTS (SELECT 1 FROM run_states s WHERE s.uid = c.uid AND s.status IN ('attested', 'failed'))`;

/** Rows read per look-up, so a row that fails its seal does not hide a sound one behind it. */
const CANDIDATES = 4;

/**
 * The capture table on SQLite: a batch is one BEGIN IMMEDIATE … COMMIT. Every row is sealed when
 * written and checked when read (seal/index-seal.ts): a row that fails its seal is reported and
 * never returned.
 */
export class SqliteRunCaptures implements RunCaptures {
  readonly #db: SqliteDb;
  readonly #seal: IndexSeal;

  constructor(options: { db: SqliteDb; seal: IndexSeal }) {
    this.#db = options.db;
    this.#seal = options.seal;
  }

  async captureRuns(captures: readonly RunCapture[]): Promise<void> {
    const rows = captureRows(captures, this.#seal);
    if (rows.length === 0) return;
    const evidenceBatch = evidenceRows(captures, this.#seal);
    const sightingBatch = sightingRows(captures, this.#seal);
    this.#db.write(`capturing ${rows.length} run(s)`, () => {
      const upsert =
        this.#db.stmt(`INSERT INTO run_captures (uid, kind, namespace, name, object, captured_at, seal)
          VALUES (?, ?, ?, ?, ?, ?, ?)
          ON CONFLICT (uid) DO UPDATE SET kind = excluded.kind, namespace = excluded.namespace,
            name = excluded.name, object = excluded.object, captured_at = excluded.captured_at,
            seal = excluded.seal`);
      for (const row of rows) upsert.run(...row);
      const evidence = this.#db.stmt(
        'INSERT INTO run_evidence (uid, evidence, taken_at, seal) VALUES (?, ?, ?, ?) ON CONFLICT (uid) DO NOTHING',
      );
      for (const row of evidenceBatch) evidence.run(...row);
      const sighting =
        this.#db.stmt(`INSERT INTO run_sightings (namespace, name, parent_uid, uid, first_seen_at, seal)
        VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`);
      for (const row of sightingBatch) sighting.run(...row);
    });
  }

  async firstChildSighting(run: RunKey, parentUid: string): Promise<{ uid: string; at: Date } | undefined> {
    const rows = this.#db.read(`reading the first sighting of ${describe(run)}`, () =>
      this.#db
        .stmt(`SELECT namespace, name, parent_uid, uid, first_seen_at, seal FROM run_sightings
          WHERE namespace = ? AND name = ? AND parent_uid = ? ORDER BY first_seen_at, uid LIMIT ?`)
        .all(run.namespace, run.name, parentUid, CANDIDATES),
    ) as unknown as SightingRow[];
    return firstSealedSighting(rows, this.#seal);
  }

  async findRunEvidence(uid: string, run?: RunKey): Promise<PodEvidence | undefined> {
    const row = this.#db.read(`reading the Pod evidence of run ${uid}`, () =>
      this.#db.stmt('SELECT uid, evidence, taken_at, seal FROM run_evidence WHERE uid = ?').get(uid),
    ) as EvidenceRow | undefined;
    return row ? sealedEvidence(row, this.#seal, run) : undefined;
  }

  async findCapturedRun(run: RunKey): Promise<RunCapture | undefined> {
    const rows = this.#db.read(`reading the captured copy of ${describe(run)}`, () =>
      this.#db
        .stmt(`SELECT c.uid, c.kind, c.namespace, c.name, c.object, c.captured_at, c.seal FROM run_captures c
          WHERE c.namespace = ? AND c.kind = ? AND c.name = ?
          ORDER BY ${SETTLED} ASC, c.captured_at DESC, c.uid DESC LIMIT ?`)
        .all(run.namespace, run.kind, run.name, CANDIDATES),
    ) as unknown as CaptureRow[];
    return firstSealedCapture(rows, this.#seal);
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
      // evidence lives as long as its capture
      this.#db.stmt('DELETE FROM run_evidence WHERE uid NOT IN (SELECT uid FROM run_captures)').run();
      this.#db.stmt('DELETE FROM run_sightings WHERE uid NOT IN (SELECT uid FROM run_captures)').run();
      return Number(result.changes);
    });
  }
}
