import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { INDEX_DISK_FULL, ObserverError } from '../../errors.ts';
import { migrate } from './sqlite-schema.ts';

export interface SqliteDbOptions {
  /** database file, or `:memory:` (private to this instance) */
  path: string;
  /** how long a writer waits for another connection's lock before failing; default 5000 ms */
  busyTimeoutMs?: number;
  /**
   * Upper bound on the database file (PRAGMA max_page_count); a write that would grow it further
   * fails like a full disk. Default: none (the volume's size is the bound).
   */
  maxBytes?: number;
}

/** Primary result codes (https://www.sqlite.org/rescode.html); node:sqlite reports extended ones. */
const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;
const SQLITE_IOERR = 10;
const SQLITE_FULL = 13;

/**
 * One SQLite connection with the index's transaction discipline and error mapping: writes take
 * the lock up front (BEGIN IMMEDIATE) so two writers never deadlock; busy, locked, I/O errors and
 * a full disk are retryable `index` errors and leave nothing written.
 */
export class SqliteDb {
  readonly path: string;
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();

  constructor(options: SqliteDbOptions) {
    this.path = options.path;
    try {
      this.#db = new DatabaseSync(options.path, { timeout: options.busyTimeoutMs ?? 5000 });
      if (options.path !== ':memory:') this.#db.exec('PRAGMA journal_mode = WAL');
      this.#db.exec('PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON');
      migrate(this.#db);
      if (options.maxBytes !== undefined) {
        const { page_size } = this.#db.prepare('PRAGMA page_size').get() as { page_size: number };
        this.#db.exec(`PRAGMA max_page_count = ${Math.max(1, Math.floor(options.maxBytes / page_size))}`);
      }
    } catch (err) {
      throw this.error('opening', err);
    }
  }

  get isOpen(): boolean {
    return this.#db.isOpen;
  }

  /** The prepared statement for `sql`, prepared once per connection. */
  stmt(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /** Runs `fn` in one write transaction; on any failure rolls back and throws an ObserverError. */
  write<T>(context: string, fn: () => T): T {
    try {
      this.#db.exec('BEGIN IMMEDIATE');
    } catch (err) {
      throw this.error(context, err);
    }
    try {
      const result = fn();
      this.#db.exec('COMMIT');
      return result;
    } catch (err) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      throw this.error(context, err);
    }
  }

  read<T>(context: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw this.error(context, err);
    }
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }

  error(context: string, err: unknown): ObserverError {
    if (err instanceof ObserverError) return err;
    const primary = ((err as { errcode?: number }).errcode ?? 0) & 0xff;
    const detail = err instanceof Error ? err.message : String(err);
    const full = primary === SQLITE_FULL ? 'index disk full (SQLITE_FULL), nothing was written: ' : '';
    return new ObserverError(`${context} (index ${this.path}): ${full}${detail}`, {
      code: 'index',
      retryable: [SQLITE_BUSY, SQLITE_LOCKED, SQLITE_IOERR, SQLITE_FULL].includes(primary),
      ...(primary === SQLITE_FULL ? { reason: INDEX_DISK_FULL } : {}),
      cause: err,
    });
  }
}
