import { createHash } from 'node:crypto';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { ObserverError } from '../errors.ts';
import type { DsseEnvelope } from '../signing/index.ts';
import { describeRun as describe, type RunKey, type RunKind } from '../tekton/index.ts';
import type {
  AttestationIndex,
  AttestationSummary,
  NewAttestation,
  Page,
  RunState,
} from './attestation-index.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import {
  type AttestationRow,
  type RunStateRow,
  SUMMARY_COLUMNS,
  toRunState,
  toSummary,
} from './sqlite-rows.ts';
import { migrate } from './sqlite-schema.ts';

export interface SqliteIndexOptions {
  /** database file, or `:memory:` (private to this instance) */
  path: string;
  /** how long a writer waits for another connection's lock before failing; default 5000 ms */
  busyTimeoutMs?: number;
}

/** A digest as stored and queried: `alg:hex`, lower case. */
const DIGEST = /^[a-z0-9]+:[a-f0-9]{32,128}$/;
const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;

/**
 * The index of record in one SQLite file (node:sqlite, no native build). WAL mode lets readers run
 * beside one writer; several instances, in one process or several, may share a file: writes take
 * the lock with BEGIN IMMEDIATE and wait up to `busyTimeoutMs` for it.
 *
 * An attestation's id is the SHA-256 (hex) of the run uid and the envelope, so recording the same
 * envelope for the same run again is idempotent: it keeps one row (and the first createdAt) and
 * replaces the storage outcomes with the latest account of where the envelope is stored.
 */
export class SqliteIndex implements AttestationIndex {
  readonly #db: DatabaseSync;
  readonly #path: string;
  readonly #stmt: Record<string, StatementSync>;

  constructor(options: SqliteIndexOptions) {
    this.#path = options.path;
    try {
      this.#db = new DatabaseSync(options.path, { timeout: options.busyTimeoutMs ?? 5000 });
      if (options.path !== ':memory:') this.#db.exec('PRAGMA journal_mode = WAL');
      this.#db.exec('PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON');
      migrate(this.#db);
    } catch (err) {
      throw this.#error('opening', err);
    }
    this.#stmt = this.#prepare();
  }

  async addAttestation(a: NewAttestation): Promise<string> {
    const subjects = a.subjects.map((s) => ({ name: s.name, digest: normalizeDigest(s.digest, a) }));
    const createdAt = a.createdAt.getTime();
    if (!Number.isFinite(createdAt))
      throw invalid(`attestation of ${describe(a.run)}: createdAt is not a date`);
    const id = attestationId(a.run.uid, a.envelope);
    this.#write(`recording attestation ${id} of ${describe(a.run)}`, () => {
      const stored = this.#stmt.upsertAttestation.get(
        id,
        a.run.uid,
        a.run.kind,
        a.run.namespace,
        a.run.name,
        a.predicateType,
        a.keyId,
        JSON.stringify(a.envelope),
        JSON.stringify(a.storage),
        createdAt,
      );
      for (const s of subjects) this.#stmt.insertSubject.run(id, s.name, s.digest);
      // keyed by the first recording's createdAt, which an idempotent re-add keeps
      const firstCreatedAt = (stored as { created_at: number }).created_at;
      for (const d of new Set(subjects.map((s) => s.digest)))
        this.#stmt.insertDigest.run(d, firstCreatedAt, id);
    });
    return id;
  }

  async setRunState(state: RunState): Promise<void> {
    this.#write(`setting state of ${describe(state.run)}`, () => {
      this.#stmt.upsertRunState.run(
        state.uid,
        state.run.kind,
        state.run.namespace,
        state.run.name,
        state.status,
        state.attempts,
        state.lastError ?? null,
        state.updatedAt.getTime(),
      );
    });
  }

  async getRunState(uid: string): Promise<RunState | undefined> {
    const row = this.#read(`reading state of run ${uid}`, () => this.#stmt.runStateByUid.get(uid));
    return row ? toRunState(row as unknown as RunStateRow) : undefined;
  }

  async findRunStates(run: RunKey): Promise<RunState[]> {
    const rows = this.#read(`reading states of ${describe(run)}`, () =>
      this.#stmt.runStatesByRun.all(run.namespace, run.kind, run.name),
    );
    return (rows as unknown as RunStateRow[]).map(toRunState);
  }

  async findByDigest(
    digest: string,
    page: { limit: number; cursor?: string },
  ): Promise<Page<AttestationSummary>> {
    const limit = Math.trunc(page.limit);
    if (!(limit >= 1 && limit <= 1000))
      throw invalid(`listing attestations of ${digest}: limit must be 1..1000`);
    const after = page.cursor === undefined ? undefined : decodeCursor(page.cursor);
    if (page.cursor !== undefined && !after)
      throw invalid(`listing attestations of ${digest}: malformed cursor`);
    const d = digest.toLowerCase();
    const rows = this.#read(`listing attestations of ${digest}`, () =>
      after
        ? this.#stmt.byDigestAfter.all(d, after.createdAt, after.id, limit + 1)
        : this.#stmt.byDigest.all(d, limit + 1),
    ) as unknown as AttestationRow[];
    const items = rows.slice(0, limit).map(toSummary);
    const last = items.at(-1);
    return rows.length > limit && last
      ? { items, next: encodeCursor({ createdAt: last.createdAt.getTime(), id: last.id }) }
      : { items };
  }

  async findByRun(run: { namespace: string; kind: RunKind; name: string }): Promise<AttestationSummary[]> {
    const rows = this.#read(`listing attestations of ${describe(run)}`, () =>
      this.#stmt.byRun.all(run.namespace, run.kind, run.name),
    );
    return (rows as unknown as AttestationRow[]).map(toSummary);
  }

  async getAttestation(id: string): Promise<AttestationSummary | undefined> {
    const row = this.#read(`reading attestation ${id}`, () => this.#stmt.byId.get(id));
    return row ? toSummary(row as unknown as AttestationRow) : undefined;
  }

  async getEnvelope(id: string): Promise<DsseEnvelope | undefined> {
    const row = this.#read(`reading envelope ${id}`, () => this.#stmt.envelopeById.get(id)) as
      | { envelope: string }
      | undefined;
    return row ? (JSON.parse(row.envelope) as DsseEnvelope) : undefined;
  }

  async close(): Promise<void> {
    if (this.#db.isOpen) this.#db.close();
  }

  #prepare(): Record<string, StatementSync> {
    const p = (sql: string) => this.#db.prepare(sql);
    const newestFirst = 'ORDER BY a.created_at DESC, a.id DESC';
    const byDigest = `SELECT ${SUMMARY_COLUMNS} FROM subject_digests d JOIN attestations a ON a.id = d.attestation_id
      WHERE d.digest = ?`;
    const digestOrder = 'ORDER BY d.created_at DESC, d.attestation_id DESC';
    return {
      upsertAttestation: p(`INSERT INTO attestations
        (id, run_uid, kind, namespace, name, predicate_type, key_id, envelope, storage, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET storage = excluded.storage
        RETURNING created_at`),
      insertSubject: p('INSERT OR IGNORE INTO subjects (attestation_id, name, digest) VALUES (?, ?, ?)'),
      insertDigest: p(
        'INSERT OR IGNORE INTO subject_digests (digest, created_at, attestation_id) VALUES (?, ?, ?)',
      ),
      upsertRunState: p(`INSERT INTO run_states
        (uid, kind, namespace, name, status, attempts, last_error, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (uid) DO UPDATE SET kind = excluded.kind, namespace = excluded.namespace, name = excluded.name,
          status = excluded.status, attempts = excluded.attempts, last_error = excluded.last_error,
          updated_at = excluded.updated_at`),
      runStateByUid: p('SELECT * FROM run_states WHERE uid = ?'),
      runStatesByRun: p(`SELECT * FROM run_states WHERE namespace = ? AND kind = ? AND name = ?
        ORDER BY updated_at DESC, uid DESC`),
      byDigest: p(`${byDigest} ${digestOrder} LIMIT ?`),
      byDigestAfter: p(`${byDigest} AND (d.created_at, d.attestation_id) < (?, ?) ${digestOrder} LIMIT ?`),
      byRun: p(`SELECT ${SUMMARY_COLUMNS} FROM attestations a
        WHERE a.namespace = ? AND a.kind = ? AND a.name = ? ${newestFirst}`),
      byId: p(`SELECT ${SUMMARY_COLUMNS} FROM attestations a WHERE a.id = ?`),
      envelopeById: p('SELECT envelope FROM attestations WHERE id = ?'),
    };
  }

  /** Runs `fn` in one write transaction; the lock is taken up front so two writers never deadlock. */
  #write(context: string, fn: () => void): void {
    try {
      this.#db.exec('BEGIN IMMEDIATE');
    } catch (err) {
      throw this.#error(context, err);
    }
    try {
      fn();
      this.#db.exec('COMMIT');
    } catch (err) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      throw this.#error(context, err);
    }
  }

  #read<T>(context: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw this.#error(context, err);
    }
  }

  #error(context: string, err: unknown): ObserverError {
    if (err instanceof ObserverError) return err;
    const errcode = (err as { errcode?: number }).errcode;
    const detail = err instanceof Error ? err.message : String(err);
    return new ObserverError(`${context} (index ${this.#path}): ${detail}`, {
      code: 'index',
      retryable: errcode === SQLITE_BUSY || errcode === SQLITE_LOCKED,
      cause: err,
    });
  }
}

/** SHA-256 over the run uid and the envelope's fields in a fixed order (key order of the input does not matter). */
export function attestationId(runUid: string, envelope: DsseEnvelope): string {
  const canonical = JSON.stringify({
    payloadType: envelope.payloadType,
    payload: envelope.payload,
    signatures: envelope.signatures.map((s) => ({ keyid: s.keyid ?? '', sig: s.sig })),
  });
  return createHash('sha256').update(runUid).update('\n').update(canonical).digest('hex');
}

function normalizeDigest(digest: string, a: NewAttestation): string {
  const d = digest.toLowerCase();
  if (!DIGEST.test(d))
    throw invalid(`attestation of ${describe(a.run)}: subject digest "${digest}" is not alg:hex`);
  return d;
}

const invalid = (message: string) => new ObserverError(message, { code: 'input_invalid', retryable: false });
