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
import type { SqliteDb } from './sqlite-db.ts';

const ENTRY =
  'SELECT seq, entry_key, run_uid, namespace, type, entry, leaf_hash, created_at FROM log_entries';

/**
 * The decision log in SQLite. Appends run inside a write transaction (BEGIN IMMEDIATE holds the
 * database's one write lock: one appender at a time, across processes sharing the file).
 */
export class SqliteDecisionLog implements DecisionLog {
  readonly #db: SqliteDb;
  readonly #now: () => number;

  constructor(options: { db: SqliteDb; now: () => number }) {
    this.#db = options.db;
    this.#now = options.now;
  }

  async appendDecisions(entries: readonly DecisionEntry[]): Promise<number[]> {
    return this.#db.write('appending to the decision log', () => this.appendInTransaction(entries));
  }

  /** Appends within the caller's write transaction; returns each entry's index (an earlier one's when already logged). */
  appendInTransaction(entries: readonly DecisionEntry[]): number[] {
    const rows = entryRows(entries);
    if (rows.length === 0) return [];
    const existing = this.#db.stmt('SELECT seq FROM log_entries WHERE entry_key = ?');
    const seqs: number[] = [];
    const fresh = rows.filter((r) => {
      const found = existing.get(r.key) as { seq: number } | undefined;
      if (found) seqs.push(found.seq);
      return !found;
    });
    if (fresh.length === 0) return seqs;
    const size = this.#size();
    const nodes = appendNodes(
      size,
      fresh.map((r) => r.leafHash),
      this.#readNodes(appendNeeds(size, fresh.length)),
    );
    const insert = this.#db.stmt(`INSERT INTO log_entries (seq, entry_key, run_uid, namespace, type, entry,
      leaf_hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
    const now = this.#now();
    fresh.forEach((r, i) => {
      insert.run(size + i, r.key, r.runUid, r.namespace, r.type, r.json, r.leafHash.toString('hex'), now);
      seqs.push(size + i);
    });
    const node = this.#db.stmt('INSERT INTO log_nodes (level, idx, hash) VALUES (?, ?, ?)');
    for (const n of nodes) node.run(n.level, n.index, n.hash.toString('hex'));
    this.#db
      .stmt(
        'INSERT INTO log_head (id, size) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET size = excluded.size',
      )
      .run(size + fresh.length);
    return seqs;
  }

  async logSize(): Promise<number> {
    return this.#db.read('reading the decision log size', () => this.#size());
  }

  /** The tree size: log_head's row, made by the first append (none: 0). */
  #size(): number {
    return (
      (this.#db.stmt('SELECT size FROM log_head WHERE id = 1').get() as { size: number } | undefined)?.size ??
      0
    );
  }

  async logNodes(ids: readonly NodeId[]): Promise<Map<string, Uint8Array>> {
    return this.#db.read('reading decision log nodes', () => this.#readNodes(ids));
  }

  #readNodes(ids: readonly NodeId[]): Map<string, Uint8Array> {
    const out = new Map<string, Uint8Array>();
    const one = this.#db.stmt('SELECT hash FROM log_nodes WHERE level = ? AND idx = ?');
    for (const id of ids) {
      const row = one.get(id.level, id.index) as { hash: string } | undefined;
      if (row) out.set(nodeKey(id), Buffer.from(row.hash, 'hex'));
    }
    return out;
  }

  async logEntries(from: number, to: number): Promise<LoggedEntry[]> {
    const rows = this.#db.read('reading decision log entries', () =>
      this.#db.stmt(`${ENTRY} WHERE seq >= ? AND seq < ? ORDER BY seq`).all(from, to),
    );
    return (rows as unknown as LoggedEntryRow[]).map(toLoggedEntry);
  }

  async findLogEntry(key: string): Promise<LoggedEntry | undefined> {
    const row = this.#db.read('finding a decision log entry', () =>
      this.#db.stmt(`${ENTRY} WHERE entry_key = ?`).get(key),
    );
    return row ? toLoggedEntry(row as unknown as LoggedEntryRow) : undefined;
  }

  async logEntriesOfRun(uid: string): Promise<LoggedEntry[]> {
    const rows = this.#db.read(`reading decision log entries of run ${uid}`, () =>
      this.#db.stmt(`${ENTRY} WHERE run_uid = ? ORDER BY seq`).all(uid),
    );
    return (rows as unknown as LoggedEntryRow[]).map(toLoggedEntry);
  }

  async putCheckpoint(c: StoredCheckpoint): Promise<void> {
    this.#db.write(`keeping the checkpoint of size ${c.size}`, () => {
      this.#db
        .stmt('INSERT OR IGNORE INTO log_checkpoints (size, note, created_at) VALUES (?, ?, ?)')
        .run(c.size, c.note, c.createdAt.getTime());
    });
  }

  async checkpoints(limit: number): Promise<StoredCheckpoint[]> {
    const rows = this.#db.read('reading checkpoints', () =>
      this.#db
        .stmt('SELECT size, note, created_at FROM log_checkpoints ORDER BY size DESC LIMIT ?')
        .all(limit),
    ) as unknown as { size: number; note: string; created_at: number }[];
    return rows.map((r) => ({ size: r.size, note: r.note, createdAt: new Date(r.created_at) }));
  }
}
