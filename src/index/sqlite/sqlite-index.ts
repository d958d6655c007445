import type { DecisionEntry, NodeId } from '../../log/index.ts';
import type { Fence, RunRecord } from '../../model/index.ts';
import type { PodEvidence } from '../../policy/index.ts';
import type { DsseEnvelope } from '../../signing/index.ts';
import { describeRun as describe, type RunKey, type RunKind } from '../../tekton/index.ts';
import type { AttestationIndex, AttestationSummary, NewAttestation, Page } from '../attestation-index.ts';
import type { RunScope } from '../attestation-reader.ts';
import type { ResignJobState } from '../attestation-recorder.ts';
import { attestationColumns, attestationRecord, digestPage, runRecordColumns } from '../index-input.ts';
import {
  type AttestationRow,
  type ResignJobRow,
  type RunRecordRow,
  resignJobColumns,
  toPage,
  toResignJob,
  toRunRecord,
  toSummary,
} from '../index-rows.ts';
import type { LoggedEntry, StoredCheckpoint } from '../log/decision-log.ts';
import type { RunCapture } from '../run-captures.ts';
import { IndexSeal } from '../seal/index-seal.ts';
import { SqliteDb, type SqliteDbOptions } from './sqlite-db.ts';
import { SqliteDecisionLog } from './sqlite-decision-log.ts';
import { SqliteRunCaptures } from './sqlite-run-captures.ts';
import { SqliteRunWork } from './sqlite-run-work.ts';

export interface SqliteIndexOptions extends SqliteDbOptions {
  /** clock for claim leases, in ms since the epoch; default Date.now */
  now?: () => number;
  /** seals the rows that lead to a signature; default a per-process key (seal/index-seal.ts) */
  seal?: IndexSeal;
}

const SUMMARY = `a.id, a.run_uid, a.kind, a.namespace, a.name, a.predicate_type, a.key_id, a.storage, a.skipped, a.origin, a.created_at,
  (SELECT json_group_array(json_object('name', s.name, 'digest', s.digest))
     FROM (SELECT name, digest FROM subjects WHERE attestation_id = a.id ORDER BY name, digest) s) AS subjects`;
// the second and third parameters: a JSON array of `kind/namespace` scope keys, or NULL for all
const BY_DIGEST = `SELECT ${SUMMARY} FROM subject_digests d JOIN attestations a ON a.id = d.attestation_id
  WHERE d.digest = ? AND (? IS NULL OR (a.kind || '/' || a.namespace) IN (SELECT value FROM json_each(?)))`;
const DIGEST_ORDER = 'ORDER BY d.created_at DESC, d.attestation_id DESC';

/** A run's record: its state joined with its claim (run_work). */
const RECORD_SELECT = `SELECT s.*, w.owner, w.lease_expires, w.fence FROM run_states s
  LEFT JOIN run_work w ON w.uid = s.uid`;

/**
 * The index of record in one SQLite file (node:sqlite, no native build): the single-replica
 * default. WAL mode lets readers run beside one writer; several instances, in one process or
 * several, may share a file (writes wait up to `busyTimeoutMs` for the lock).
 *
 * An attestation's id is the SHA-256 (hex) of the run uid and the envelope, so recording the same
 * envelope for the same run again is idempotent: it keeps one row (and the first createdAt) and
 * replaces the storage outcomes with the latest account of where the envelope is stored.
 * Claims, attempts and retention come from SqliteRunWork, captured runs from SqliteRunCaptures,
 * on the same connection.
 */
export class SqliteIndex extends SqliteRunWork implements AttestationIndex {
  readonly #db: SqliteDb;
  readonly #captures: SqliteRunCaptures;
  readonly #log: SqliteDecisionLog;

  constructor(options: SqliteIndexOptions) {
    const db = new SqliteDb(options);
    super({ db, now: options.now ?? Date.now });
    this.#db = db;
    this.#captures = new SqliteRunCaptures({ db, seal: options.seal ?? new IndexSeal() });
    this.#log = new SqliteDecisionLog({ db, now: options.now ?? Date.now });
  }

  async addAttestation(a: NewAttestation): Promise<string> {
    const r = attestationRecord(a);
    this.#db.write(`recording attestation ${r.id} of ${describe(a.run)}`, () => {
      const existing = this.#db.stmt('SELECT created_at FROM attestations WHERE id = ?').get(r.id) as
        | { created_at: number }
        | undefined;
      if (existing) {
        this.#db.stmt('UPDATE attestations SET storage = ? WHERE id = ?').run(r.storageJson, r.id);
        return;
      }
      this.#db
        .stmt(`INSERT INTO attestations (id, run_uid, kind, namespace, name, predicate_type, key_id,
          envelope, storage, created_at, payload_bytes, skipped, origin) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
        .run(...attestationColumns(a, r), r.skippedJson, a.origin ?? 'observer');
      const subject = this.#db.stmt(
        'INSERT OR IGNORE INTO subjects (attestation_id, name, digest) VALUES (?, ?, ?)',
      );
      for (const s of r.subjects) subject.run(r.id, s.name, s.digest);
      const digest = this.#db.stmt(
        'INSERT OR IGNORE INTO subject_digests (digest, created_at, attestation_id) VALUES (?, ?, ?)',
      );
      for (const d of r.digests) digest.run(d, r.createdAt, r.id);
      this.#db
        .stmt(`INSERT INTO namespace_usage (namespace, payload_bytes) VALUES (?, ?)
          ON CONFLICT (namespace) DO UPDATE SET payload_bytes = payload_bytes + excluded.payload_bytes`)
        .run(a.run.namespace, r.payloadBytes);
    });
    return r.id;
  }

  async putRunRecord(
    state: RunRecord,
    fence?: Fence,
    decisions?: readonly DecisionEntry[],
  ): Promise<boolean> {
    return this.#db.write(`setting state of ${describe(state.run)}`, () => {
      if (fence && !this.#holds(state.uid, fence)) return false;
      this.#db
        .stmt(`INSERT INTO run_states (uid, kind, namespace, name, status, attempts, last_error, updated_at,
            next_attempt_at, deferred_since, last_attempt_at)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
          ON CONFLICT (uid) DO UPDATE SET kind = excluded.kind, namespace = excluded.namespace,
            name = excluded.name, status = excluded.status, attempts = excluded.attempts,
            last_error = excluded.last_error, updated_at = excluded.updated_at,
            next_attempt_at = excluded.next_attempt_at, deferred_since = excluded.deferred_since,
            last_attempt_at = excluded.last_attempt_at`)
        .run(...runRecordColumns(state));
      if (decisions?.length) this.#log.appendInTransaction(decisions);
      return true;
    });
  }

  async getRunRecord(uid: string): Promise<RunRecord | undefined> {
    const row = this.#db.read(`reading state of run ${uid}`, () =>
      this.#db.stmt(`${RECORD_SELECT} WHERE s.uid = ?`).get(uid),
    );
    return row ? toRunRecord(row as unknown as RunRecordRow) : undefined;
  }

  async holdsClaim(uid: string, fence: Fence): Promise<boolean> {
    return this.#db.read(`checking the claim on run ${uid}`, () => this.#holds(uid, fence));
  }

  #holds(uid: string, { owner, fence }: Fence): boolean {
    return (
      this.#db
        .stmt('SELECT 1 FROM run_work WHERE uid = ? AND owner = ? AND fence = ?')
        .get(uid, owner, fence) !== undefined
    );
  }

  async findRunRecords(run: RunKey): Promise<RunRecord[]> {
    const rows = this.#db.read(`reading states of ${describe(run)}`, () =>
      this.#db
        .stmt(`${RECORD_SELECT} WHERE s.namespace = ? AND s.kind = ? AND s.name = ?
          ORDER BY s.updated_at DESC, s.uid DESC`)
        .all(run.namespace, run.kind, run.name),
    );
    return (rows as unknown as RunRecordRow[]).map(toRunRecord);
  }

  async findByDigest(
    digest: string,
    page: { limit: number; cursor?: string; scopes?: readonly RunScope[] },
  ): Promise<Page<AttestationSummary>> {
    const q = digestPage(digest, page);
    if (q.scopes?.length === 0) return { items: [] };
    const scopes = q.scopes && JSON.stringify(q.scopes);
    const rows = this.#db.read(`listing attestations of ${digest}`, () =>
      q.after
        ? this.#db
            .stmt(`${BY_DIGEST} AND (d.created_at, d.attestation_id) < (?, ?) ${DIGEST_ORDER} LIMIT ?`)
            .all(q.digest, scopes, scopes, q.after.createdAt, q.after.id, q.limit + 1)
        : this.#db.stmt(`${BY_DIGEST} ${DIGEST_ORDER} LIMIT ?`).all(q.digest, scopes, scopes, q.limit + 1),
    );
    return toPage(rows as unknown as AttestationRow[], q.limit);
  }

  async digestScopes(digest: string): Promise<RunScope[]> {
    const rows = this.#db.read(`listing namespaces of ${digest}`, () =>
      this.#db
        .stmt(`SELECT DISTINCT a.namespace, a.kind FROM subject_digests d
          JOIN attestations a ON a.id = d.attestation_id WHERE d.digest = ? ORDER BY a.namespace, a.kind`)
        .all(digest.toLowerCase()),
    ) as unknown as { namespace: string; kind: RunKind }[];
    return rows.map((r) => ({ namespace: r.namespace, kind: r.kind }));
  }

  async findByRun(run: { namespace: string; kind: RunKind; name: string }): Promise<AttestationSummary[]> {
    const rows = this.#db.read(`listing attestations of ${describe(run)}`, () =>
      this.#db
        .stmt(`SELECT ${SUMMARY} FROM attestations a WHERE a.namespace = ? AND a.kind = ? AND a.name = ?
          ORDER BY a.created_at DESC, a.id DESC`)
        .all(run.namespace, run.kind, run.name),
    );
    return (rows as unknown as AttestationRow[]).map(toSummary);
  }

  async getAttestation(id: string): Promise<AttestationSummary | undefined> {
    const row = this.#db.read(`reading attestation ${id}`, () =>
      this.#db.stmt(`SELECT ${SUMMARY} FROM attestations a WHERE a.id = ?`).get(id),
    );
    return row ? toSummary(row as unknown as AttestationRow) : undefined;
  }

  async getEnvelope(id: string): Promise<DsseEnvelope | undefined> {
    const row = this.#db.read(`reading envelope ${id}`, () =>
      this.#db.stmt('SELECT envelope FROM attestations WHERE id = ?').get(id),
    ) as { envelope: string } | undefined;
    return row ? (JSON.parse(row.envelope) as DsseEnvelope) : undefined;
  }

  captureRuns(captures: readonly RunCapture[]): Promise<void> {
    return this.#captures.captureRuns(captures);
  }

  findRunEvidence(uid: string, run?: RunKey): Promise<PodEvidence | undefined> {
    return this.#captures.findRunEvidence(uid, run);
  }

  firstChildSighting(run: RunKey, parentUid: string): Promise<{ uid: string; at: Date } | undefined> {
    return this.#captures.firstChildSighting(run, parentUid);
  }

  findCapturedRun(run: RunKey): Promise<RunCapture | undefined> {
    return this.#captures.findCapturedRun(run);
  }

  unsettledCaptures(limit?: number): Promise<(RunKey & { uid: string })[]> {
    return this.#captures.unsettledCaptures(limit);
  }

  pruneCaptures(cut: { deletedBefore: Date; capturedBefore: Date }, limit?: number): Promise<number> {
    return this.#captures.pruneCaptures(cut, limit);
  }

  async getResignJob(id: string): Promise<ResignJobState | undefined> {
    const row = this.#db.read(`reading resign job ${id}`, () =>
      this.#db.stmt('SELECT * FROM resign_jobs WHERE id = ?').get(id),
    );
    return row ? toResignJob(row as unknown as ResignJobRow) : undefined;
  }

  async putResignJob(job: ResignJobState): Promise<void> {
    this.#db.write(`saving resign job ${job.id}`, () =>
      this.#db
        .stmt(`INSERT INTO resign_jobs (id, selection, cursor, resigned, current, failed, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
          ON CONFLICT (id) DO UPDATE SET selection = excluded.selection, cursor = excluded.cursor,
            resigned = excluded.resigned, current = excluded.current, failed = excluded.failed,
            updated_at = excluded.updated_at`)
        .run(...resignJobColumns(job)),
    );
  }

  async deleteResignJob(id: string): Promise<void> {
    this.#db.write(`forgetting resign job ${id}`, () =>
      this.#db.stmt('DELETE FROM resign_jobs WHERE id = ?').run(id),
    );
  }

  appendDecisions(entries: readonly DecisionEntry[]): Promise<number[]> {
    return this.#log.appendDecisions(entries);
  }

  logSize(): Promise<number> {
    return this.#log.logSize();
  }

  logNodes(ids: readonly NodeId[]): Promise<Map<string, Uint8Array>> {
    return this.#log.logNodes(ids);
  }

  logEntries(from: number, to: number): Promise<LoggedEntry[]> {
    return this.#log.logEntries(from, to);
  }

  findLogEntry(key: string): Promise<LoggedEntry | undefined> {
    return this.#log.findLogEntry(key);
  }

  logEntriesOfRun(uid: string): Promise<LoggedEntry[]> {
    return this.#log.logEntriesOfRun(uid);
  }

  putCheckpoint(checkpoint: StoredCheckpoint): Promise<void> {
    return this.#log.putCheckpoint(checkpoint);
  }

  checkpoints(limit: number): Promise<StoredCheckpoint[]> {
    return this.#log.checkpoints(limit);
  }

  async healthy(): Promise<boolean> {
    try {
      return this.#db.isOpen && this.#db.stmt('SELECT 1 AS ok').get() !== undefined;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    this.#db.close();
  }
}
