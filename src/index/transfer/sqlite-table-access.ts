import { DatabaseSync } from 'node:sqlite';
import { SqliteDb } from '../sqlite/sqlite-db.ts';
import { schemaVersion } from '../sqlite/sqlite-schema.ts';
import { type EachRow, exportOrder, type Row, type TableAccess, type TableShape } from './table-access.ts';

const NAME = /^[a-z_][a-z0-9_]*$/;

/** TableAccess over a SQLite index file (migrated to this build's schema when opened). */
export class SqliteTableAccess implements TableAccess {
  readonly engine = 'sqlite';
  readonly #db: DatabaseSync;

  constructor(path: string) {
    new SqliteDb({ path }).close(); // creates the file and brings its schema up to date
    this.#db = new DatabaseSync(path);
    this.#db.exec('PRAGMA foreign_keys = ON');
  }

  async schemaVersion(): Promise<number> {
    return schemaVersion(this.#db);
  }

  async tables(): Promise<TableShape[]> {
    const names = (
      this.#db
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .all() as { name: string }[]
    )
      .map((r) => r.name)
      .filter((n) => n !== 'schema_migrations' && NAME.test(n));
    return exportOrder(names).map((name) => ({
      name,
      columns: (this.#db.prepare(`PRAGMA table_info(${name})`).all() as { name: string }[]).map(
        (c) => c.name,
      ),
    }));
  }

  async snapshot<T>(fn: (each: EachRow) => Promise<T>): Promise<T> {
    this.#db.exec('BEGIN');
    try {
      return await fn(async (table, onRow) => {
        const stmt = this.#db.prepare(`SELECT ${table.columns.join(', ')} FROM ${table.name} ORDER BY 1`);
        let n = 0;
        for (const row of stmt.iterate()) {
          await onRow(row as Row);
          n++;
        }
        return n;
      });
    } finally {
      if (this.#db.isTransaction) this.#db.exec('COMMIT');
    }
  }

  async transaction<T>(fn: (insert: (table: string, row: Row) => Promise<void>) => Promise<T>): Promise<T> {
    const statements = new Map<string, ReturnType<DatabaseSync['prepare']>>();
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      const result = await fn(async (table, row) => {
        const columns = Object.keys(row);
        const sql = `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`;
        let stmt = statements.get(sql);
        if (!stmt) {
          stmt = this.#db.prepare(sql);
          statements.set(sql, stmt);
        }
        stmt.run(...columns.map((c) => row[c] ?? null));
      });
      this.#db.exec('COMMIT');
      return result;
    } catch (err) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      throw err;
    }
  }

  async count(table: string): Promise<number> {
    return (this.#db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
  }

  async close(): Promise<void> {
    if (this.#db.isOpen) this.#db.close();
  }
}
