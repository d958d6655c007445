import type { DecisionEntry, NodeId } from '../../log/index.ts';
import { appendNeeds, appendNodes, nodeKey } from '../../log/index.ts';
import {
  type DecisionLog,
  entryRows,
  type LoggedEntry,
  type LoggedEntryRow,
  type StoredCheckpoint,
  toLoggedEntry,
} from '../log/decision-log.ts';
import type { PgDb, Query } from './pg-connection.ts';

const ENTRY = `SELECT seq, entry_key, run_uid, namespace, type, entry, leaf_hash, created_at FROM log_entries`;

/**
 * The decision log in PostgreSQL. Every append locks log_head's one row (SELECT … FOR UPDATE) in
 * its transaction before it reads anything: appenders on every replica queue on that row, so the
 * sequence has one writer at a time and no gaps, and an entry's key is checked under the lock.
 */
export class PgDecisionLog implements DecisionLog {
  readonly #db: PgDb;
  readonly #now: () => number;

  constructor(options: { db: PgDb; now: () => number }) {
    this.#db = options.db;
    this.#now = options.now;
  }

  /** Runs `fn` in one transaction on one connection; rolls back when it throws or returns `false`. */
  transaction<T>(context: string, fn: (query: Query) => Promise<T>): Promise<T> {
    return this.#db.session(context, async (query) => {
      await query('BEGIN');
      try {
        const result = await fn(query);
        await query(result === false ? 'ROLLBACK' : 'COMMIT');
        return result;
      } catch (err) {
        await query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
  }

  appendDecisions(entries: readonly DecisionEntry[]): Promise<number[]> {
    return this.transaction('appending to the decision log', (query) =>
      this.appendInTransaction(query, entries),
    );
  }

  /** Appends within the caller's transaction; returns each entry's index (an earlier one's when already logged). */
  async appendInTransaction(query: Query, entries: readonly DecisionEntry[]): Promise<number[]> {
    const rows = entryRows(entries);
    if (rows.length === 0) return [];
    // the row exists after the first append; concurrent first appenders wait on each other's insert
    await query('INSERT INTO log_head (id, size) VALUES (1, 0) ON CONFLICT (id) DO NOTHING');
    const [head] = await query<{ size: string }>('SELECT size FROM log_head WHERE id = 1 FOR UPDATE');
    const size = Number(head?.size);
    const found = await query<{ entry_key: string; seq: string }>(
      'SELECT entry_key, seq FROM log_entries WHERE entry_key = ANY($1::text[])',
      [rows.map((r) => r.key)],
    );
    const known = new Set(found.map((f) => f.entry_key));
    const fresh = rows.filter((r) => !known.has(r.key));
    const seqs = found.map((f) => Number(f.seq));
    if (fresh.length === 0) return seqs;
    const nodes = appendNodes(
      size,
      fresh.map((r) => r.leafHash),
      await readNodes(query, appendNeeds(size, fresh.length)),
    );
    await query(
      `INSERT INTO log_entries (seq, entry_key, run_uid, namespace, type, entry, leaf_hash, created_at)
       SELECT s, k, u, n, t, e, h, $8::bigint
       FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) AS x(s, k, u, n, t, e, h)`,
      [
        fresh.map((_, i) => size + i),
        fresh.map((r) => r.key),
        fresh.map((r) => r.runUid),
        fresh.map((r) => r.namespace),
        fresh.map((r) => r.type),
        fresh.map((r) => r.json),
        fresh.map((r) => r.leafHash.toString('hex')),
        this.#now(),
      ],
    );
    await query(
      'INSERT INTO log_nodes (level, idx, hash) SELECT * FROM unnest($1::int[], $2::bigint[], $3::text[])',
      [nodes.map((n) => n.level), nodes.map((n) => n.index), nodes.map((n) => n.hash.toString('hex'))],
    );
    await query('UPDATE log_head SET size = $1 WHERE id = 1', [size + fresh.length]);
    return [...seqs, ...fresh.map((_, i) => size + i)];
  }

  async logSize(): Promise<number> {
    const [row] = await this.#db.query<{ size: string }>(
      'reading the decision log size',
      'SELECT size FROM log_head WHERE id = 1',
    );
    return Number(row?.size ?? 0);
  }

  logNodes(ids: readonly NodeId[]): Promise<Map<string, Uint8Array>> {
    return readNodes((sql, params) => this.#db.query('reading decision log nodes', sql, params), ids);
  }

  async logEntries(from: number, to: number): Promise<LoggedEntry[]> {
    const rows = await this.#db.query<LoggedEntryRow>(
      'reading decision log entries',
      `${ENTRY} WHERE seq >= $1 AND seq < $2 ORDER BY seq`,
      [from, to],
    );
    return rows.map(toLoggedEntry);
  }

  async findLogEntry(key: string): Promise<LoggedEntry | undefined> {
    const [row] = await this.#db.query<LoggedEntryRow>(
      'finding a decision log entry',
      `${ENTRY} WHERE entry_key = $1`,
      [key],
    );
    return row ? toLoggedEntry(row) : undefined;
  }

  async logEntriesOfRun(uid: string): Promise<LoggedEntry[]> {
    const rows = await this.#db.query<LoggedEntryRow>(
      `reading decision log entries of run ${uid}`,
      `${ENTRY} WHERE run_uid = $1 ORDER BY seq`,
      [uid],
    );
    return rows.map(toLoggedEntry);
  }

  async putCheckpoint(c: StoredCheckpoint): Promise<void> {
    await this.#db.query(
      `keeping the checkpoint of size ${c.size}`,
      'INSERT INTO log_checkpoints (size, note, created_at) VALUES ($1, $2, $3) ON CONFLICT (size) DO NOTHING',
      [c.size, c.note, c.createdAt.getTime()],
    );
  }

  async checkpoints(limit: number): Promise<StoredCheckpoint[]> {
    const rows = await this.#db.query<{ size: string; note: string; created_at: string }>(
      'reading checkpoints',
      'SELECT size, note, created_at FROM log_checkpoints ORDER BY size DESC LIMIT $1',
      [limit],
    );
    return rows.map((r) => ({
      size: Number(r.size),
      note: r.note,
      createdAt: new Date(Number(r.created_at)),
    }));
  }
}

async function readNodes(query: Query, ids: readonly NodeId[]): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  if (ids.length === 0) return out;
  const rows = await query<{ level: number; idx: string; hash: string }>(
    `SELECT n.level, n.idx, n.hash FROM log_nodes n
     JOIN unnest($1::int[], $2::bigint[]) AS w(level, idx) ON n.level = w.level AND n.idx = w.idx`,
    [ids.map((i) => i.level), ids.map((i) => i.index)],
  );
  for (const r of rows)
    out.set(nodeKey({ level: r.level, index: Number(r.idx) }), Buffer.from(r.hash, 'hex'));
  return out;
}
