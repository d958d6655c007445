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
import type { CapturedVersion, RunCapture } from '../run-captures.ts';
import { IndexSeal } from '../seal/index-seal.ts';
import { type PgConnectionOptions, PgDb } from './pg-connection.ts';
import { PgDecisionLog } from './pg-decision-log.ts';
import { PgRunCaptures } from './pg-run-captures.ts';
import { PgRunWork } from './pg-run-work.ts';
import { migratePg } from './pg-schema.ts';

export interface PgIndexOptions extends PgConnectionOptions {
  /** clock for claim leases, in ms since the epoch; default Date.now */
  now?: () => number;
  /** seals the rows that lead to a signature; default a per-process key (seal/index-seal.ts) */
  seal?: IndexSeal;
}

const SUMMARY = `a.id, a.run_uid, a.kind, a.namespace, a.name, a.predicate_type, a.key_id, a.storage, a.skipped, a.origin,
  a.created_at::float8 AS created_at,
  (SELECT COALESCE(json_agg(json_build_object('name', s.name, 'digest', s.digest) ORDER BY s.name, s.digest), '[]')::text
     FROM subjects s WHERE s.attestation_id = a.id) AS subjects`;
// $2: the `kind/namespace` scope keys (text[]), or NULL for all
const BY_DIGEST = `SELECT ${SUMMARY} FROM subject_digests d JOIN attestations a ON a.id = d.attestation_id
  WHERE d.digest = $1 AND ($2::text[] IS NULL OR (a.kind || '/' || a.namespace) = ANY($2::text[]))`;
const DIGEST_ORDER = 'ORDER BY d.created_at DESC, d.attestation_id DESC';
/**
 * A run's record: its state joined with its claim (run_work). run_states.uid is COLLATE "C" and
 * run_work.uid is not: joined in run_work's collation, so its key finds the row (in "C", every
 * record read scanned the whole of run_work).
 */
const RECORD_SELECT = `SELECT s.uid, s.kind, s.namespace, s.name, s.status, s.attempts, s.last_error,
    s.updated_at::float8 AS updated_at, s.next_attempt_at::float8 AS next_attempt_at,
    s.deferred_since::float8 AS deferred_since, s.last_attempt_at::float8 AS last_attempt_at, w.owner, w.lease_expires::float8 AS lease_expires, w.fence
  FROM run_states s LEFT JOIN run_work w ON w.uid = (s.uid COLLATE "default")`;
const PUT_RECORD = `INSERT INTO run_states (uid, kind, namespace, name, status, attempts, last_error, updated_at,
    next_attempt_at, deferred_since, last_attempt_at)`;
const ON_RECORD_CONFLICT = `ON CONFLICT (uid) DO UPDATE SET kind = excluded.kind, namespace = excluded.namespace,
    name = excluded.name, status = excluded.status, attempts = excluded.attempts,
    last_error = excluded.last_error, updated_at = excluded.updated_at,
    next_attempt_at = excluded.next_attempt_at, deferred_since = excluded.deferred_since,
    last_attempt_at = excluded.last_attempt_at
  RETURNING uid`;
/**
 * A write fenced by a claim: the claim row is locked (FOR SHARE) for the statement, so a claim taken
 * by another replica either commits before (and the write finds another owner or token: nothing
 * written) or waits until this write commits.
 */
const PUT_RECORD_FENCED = `WITH held AS (
    SELECT uid FROM run_work WHERE uid = $1::text AND owner = $12::text AND fence = $13::bigint FOR SHARE
  ) ${PUT_RECORD} SELECT $1::text, $2::text, $3::text, $4::text, $5::text, $6::int, $7::text, $8::bigint,
    $9::bigint, $10::bigint, $11::bigint FROM held ${ON_RECORD_CONFLICT}`;

/**
 * Records an attestation in one statement (atomic without a transaction): the upsert reports
 * whether the row is new (xmax = 0), and only a new row adds subjects and counts its bytes.
 */
const ADD_ATTESTATION = `WITH a AS (
    INSERT INTO attestations (id, run_uid, kind, namespace, name, predicate_type, key_id, envelope, storage,
      created_at, payload_bytes, skipped, origin) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $15, $16)
    ON CONFLICT (id) DO UPDATE SET storage = excluded.storage
    RETURNING (xmax = 0) AS inserted
  ), s AS (
    INSERT INTO subjects (attestation_id, name, digest)
    SELECT $1, n, d FROM unnest($12::text[], $13::text[]) AS t (n, d) WHERE (SELECT inserted FROM a)
    ON CONFLICT DO NOTHING
  ), d AS (
    INSERT INTO subject_digests (digest, created_at, attestation_id)
    SELECT d, $10, $1 FROM unnest($14::text[]) AS t (d) WHERE (SELECT inserted FROM a)
    ON CONFLICT DO NOTHING
  )
  INSERT INTO namespace_usage (namespace, payload_bytes) SELECT $4, $11 WHERE (SELECT inserted FROM a)
  ON CONFLICT (namespace) DO UPDATE SET payload_bytes = namespace_usage.payload_bytes + excluded.payload_bytes`;

/**
 * The index of record on PostgreSQL, shared by every replica: the same records, ids, orderings and
 * cursors as SqliteIndex (the contract tests run both). Open it with `PgIndex.open`, which
 * migrates the schema first. While the database is unreachable every call fails with a retryable
 * `index` error, `healthy()` answers false, and the pool reconnects by itself once it is back.
 * Claims, attempts and retention come from PgRunWork, captured runs from PgRunCaptures, on the same pool.
 */
export class PgIndex extends PgRunWork implements AttestationIndex {
  readonly #db: PgDb;
  readonly #captures: PgRunCaptures;
  readonly #log: PgDecisionLog;

  private constructor(db: PgDb, now: () => number, seal: IndexSeal) {
    super({ db, now });
    this.#db = db;
    this.#captures = new PgRunCaptures({ db, seal });
    this.#log = new PgDecisionLog({ db, now });
  }

  /** Connects and migrates; fails with a retryable `index` error when the database does not answer. */
  static async open(options: PgIndexOptions): Promise<PgIndex> {
    const db = new PgDb(options);
    try {
      await migratePg(db);
    } catch (err) {
      await db.end();
      throw err;
    }
    return new PgIndex(db, options.now ?? Date.now, options.seal ?? new IndexSeal());
  }

  async addAttestation(a: NewAttestation): Promise<string> {
    const r = attestationRecord(a);
    await this.#db.query(`recording attestation ${r.id} of ${describe(a.run)}`, ADD_ATTESTATION, [
      ...attestationColumns(a, r),
      r.subjects.map((s) => s.name),
      r.subjects.map((s) => s.digest),
      r.digests,
      r.skippedJson,
      a.origin ?? 'observer',
    ]);
    return r.id;
  }

  async putRunRecord(
    state: RunRecord,
    fence?: Fence,
    decisions?: readonly DecisionEntry[],
  ): Promise<boolean> {
    if (decisions?.length) return this.#putRecordLogged(state, fence, decisions);
    const rows = await this.#db.query(
      `setting state of ${describe(state.run)}`,
      fence
        ? PUT_RECORD_FENCED
        : `${PUT_RECORD} VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ${ON_RECORD_CONFLICT}`,
      fence ? [...runRecordColumns(state), fence.owner, fence.fence] : runRecordColumns(state),
    );
    return rows.length > 0;
  }

  /** The record and its decisions in one transaction: both or neither. */
  #putRecordLogged(
    state: RunRecord,
    fence: Fence | undefined,
    decisions: readonly DecisionEntry[],
  ): Promise<boolean> {
    return this.#log.transaction(`setting state of ${describe(state.run)}`, async (query) => {
      const rows = await query(
        fence
          ? PUT_RECORD_FENCED
          : `${PUT_RECORD} VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ${ON_RECORD_CONFLICT}`,
        fence ? [...runRecordColumns(state), fence.owner, fence.fence] : runRecordColumns(state),
      );
      if (rows.length === 0) return false;
      await this.#log.appendInTransaction(query, decisions);
      return true;
    });
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

  async getRunRecord(uid: string): Promise<RunRecord | undefined> {
    const [row] = await this.#db.query<RunRecordRow>(
      `reading state of run ${uid}`,
      `${RECORD_SELECT} WHERE s.uid = $1`,
      [uid],
    );
    return row ? toRunRecord(row) : undefined;
  }

  async findRunRecords(run: RunKey): Promise<RunRecord[]> {
    const rows = await this.#db.query<RunRecordRow>(
      `reading states of ${describe(run)}`,
      `${RECORD_SELECT} WHERE s.namespace = $1 AND s.kind = $2 AND s.name = $3
       ORDER BY s.updated_at DESC, s.uid DESC`,
      [run.namespace, run.kind, run.name],
    );
    return rows.map(toRunRecord);
  }

  async findByDigest(
    digest: string,
    page: { limit: number; cursor?: string; scopes?: readonly RunScope[] },
  ): Promise<Page<AttestationSummary>> {
    const q = digestPage(digest, page);
    if (q.scopes?.length === 0) return { items: [] };
    const rows = q.after
      ? await this.#db.query<AttestationRow>(
          `listing attestations of ${digest}`,
          `${BY_DIGEST} AND (d.created_at, d.attestation_id) < ($3, $4) ${DIGEST_ORDER} LIMIT $5`,
          [q.digest, q.scopes, q.after.createdAt, q.after.id, q.limit + 1],
        )
      : await this.#db.query<AttestationRow>(
          `listing attestations of ${digest}`,
          `${BY_DIGEST} ${DIGEST_ORDER} LIMIT $3`,
          [q.digest, q.scopes, q.limit + 1],
        );
    return toPage(rows, q.limit);
  }

  async digestScopes(digest: string): Promise<RunScope[]> {
    return this.#db.query<RunScope>(
      `listing namespaces of ${digest}`,
      `SELECT DISTINCT a.namespace, a.kind FROM subject_digests d JOIN attestations a ON a.id = d.attestation_id
       WHERE d.digest = $1 ORDER BY a.namespace, a.kind`,
      [digest.toLowerCase()],
    );
  }

  async findByRun(run: { namespace: string; kind: RunKind; name: string }): Promise<AttestationSummary[]> {
    const rows = await this.#db.query<AttestationRow>(
      `listing attestations of ${describe(run)}`,
      `SELECT ${SUMMARY} FROM attestations a WHERE a.namespace = $1 AND a.kind = $2 AND a.name = $3
       ORDER BY a.created_at DESC, a.id DESC`,
      [run.namespace, run.kind, run.name],
    );
    return rows.map(toSummary);
  }

  async getAttestation(id: string): Promise<AttestationSummary | undefined> {
    const [row] = await this.#db.query<AttestationRow>(
      `reading attestation ${id}`,
      `SELECT ${SUMMARY} FROM attestations a WHERE a.id = $1`,
      [id],
    );
    return row ? toSummary(row) : undefined;
  }

  async getEnvelope(id: string): Promise<DsseEnvelope | undefined> {
    const [row] = await this.#db.query<{ envelope: string }>(
      `reading envelope ${id}`,
      'SELECT envelope FROM attestations WHERE id = $1',
      [id],
    );
    return row ? (JSON.parse(row.envelope) as DsseEnvelope) : undefined;
  }

  captureRuns(captures: readonly RunCapture[]): Promise<void> {
    return this.#captures.captureRuns(captures);
  }

  capturedVersions(uids: readonly string[]): Promise<Map<string, CapturedVersion>> {
    return this.#captures.capturedVersions(uids);
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
    const [row] = await this.#db.query<ResignJobRow>(
      `reading resign job ${id}`,
      'SELECT id, selection, cursor, resigned, current, failed, updated_at::float8 AS updated_at FROM resign_jobs WHERE id = $1',
      [id],
    );
    return row ? toResignJob(row) : undefined;
  }

  async putResignJob(job: ResignJobState): Promise<void> {
    await this.#db.query(
      `saving resign job ${job.id}`,
      `INSERT INTO resign_jobs (id, selection, cursor, resigned, current, failed, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
          ON CONFLICT (id) DO UPDATE SET selection = excluded.selection, cursor = excluded.cursor,
            resigned = excluded.resigned, current = excluded.current, failed = excluded.failed,
            updated_at = excluded.updated_at`,
      resignJobColumns(job),
    );
  }

  async deleteResignJob(id: string): Promise<void> {
    await this.#db.query(`forgetting resign job ${id}`, 'DELETE FROM resign_jobs WHERE id = $1', [id]);
  }

  healthy(): Promise<boolean> {
    return this.#db.healthy();
  }

  close(): Promise<void> {
    return this.#db.end();
  }
}
