import { type PgConnectionOptions, PgDb, type Query } from '../pg/pg-connection.ts';
import { PgIndex } from '../pg/pg-index.ts';
import { type EachRow, exportOrder, type Row, type TableAccess, type TableShape } from './table-access.ts';

const NAME = /^[a-z_][a-z0-9_]*$/;
const INTEGERS = new Set(['bigint', 'integer', 'smallint']);
const BATCH = 500;

/** TableAccess over a PostgreSQL index (migrated to this build's schema when opened). */
export class PgTableAccess implements TableAccess {
  readonly engine = 'postgres';
  readonly #db: PgDb;
  /** per table, the integer columns (node-pg hands BIGINT over as a string) */
  readonly #integers = new Map<string, Set<string>>();

  private constructor(db: PgDb) {
    this.#db = db;
  }

  static async open(options: PgConnectionOptions): Promise<PgTableAccess> {
    await (await PgIndex.open(options)).close(); // creates and migrates the schema
    return new PgTableAccess(new PgDb({ ...options, poolSize: 2, queryTimeoutMs: 600_000 }));
  }

  async schemaVersion(): Promise<number> {
    const [row] = await this.#db.query<{ v: number | null }>(
      'reading the schema version',
      'SELECT MAX(version) AS v FROM schema_migrations',
    );
    return row?.v ?? 0;
  }

  async tables(): Promise<TableShape[]> {
    const rows = await this.#db.query<{ table_name: string; column_name: string; data_type: string }>(
      'listing the tables',
      `SELECT table_name, column_name, data_type FROM information_schema.columns
       WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`,
    );
    const columns = new Map<string, string[]>();
    for (const r of rows) {
      if (r.table_name === 'schema_migrations' || !NAME.test(r.table_name)) continue;
      columns.set(r.table_name, [...(columns.get(r.table_name) ?? []), r.column_name]);
      if (INTEGERS.has(r.data_type))
        this.#integers.set(r.table_name, (this.#integers.get(r.table_name) ?? new Set()).add(r.column_name));
    }
    return exportOrder([...columns.keys()]).map((name) => ({ name, columns: columns.get(name) ?? [] }));
  }

  /** One REPEATABLE READ transaction; each table through a server-side cursor, BATCH rows a fetch. */
  async snapshot<T>(fn: (each: EachRow) => Promise<T>): Promise<T> {
    return this.#db.session('exporting', async (query) => {
      await query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      try {
        return await fn(async (table, onRow) => {
          const integers = this.#integers.get(table.name) ?? new Set<string>();
          await query(
            `DECLARE export_rows NO SCROLL CURSOR FOR SELECT ${table.columns.join(', ')} FROM ${table.name} ORDER BY 1`,
          );
          let n = 0;
          for (;;) {
            const batch = await query<Row>(`FETCH ${BATCH} FROM export_rows`);
            if (batch.length === 0) break;
            for (const row of batch) await onRow(numbers(row, integers));
            n += batch.length;
          }
          await query('CLOSE export_rows');
          return n;
        });
      } finally {
        await query('COMMIT');
      }
    });
  }

  async transaction<T>(fn: (insert: (table: string, row: Row) => Promise<void>) => Promise<T>): Promise<T> {
    return this.#db.session('importing', async (query: Query) => {
      await query('BEGIN');
      try {
        const result = await fn(async (table, row) => {
          const columns = Object.keys(row);
          await query(
            `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`,
            columns.map((c) => row[c] ?? null),
          );
        });
        await query('COMMIT');
        return result;
      } catch (err) {
        await query('ROLLBACK');
        throw err;
      }
    });
  }

  async count(table: string): Promise<number> {
    const [row] = await this.#db.query<{ n: string }>(
      `counting ${table}`,
      `SELECT COUNT(*) AS n FROM ${table}`,
    );
    return Number(row?.n ?? 0);
  }

  close(): Promise<void> {
    return this.#db.end();
  }
}

function numbers(row: Row, integers: Set<string>): Row {
  for (const c of integers) if (typeof row[c] === 'string') row[c] = Number(row[c]);
  return row;
}
