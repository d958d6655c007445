/** One table of the index as the export sees it: its name and columns, in the database's order. */
export interface TableShape {
  name: string;
  columns: string[];
}

export type Row = Record<string, string | number | null>;

export type EachRow = (table: TableShape, onRow: (row: Row) => Promise<void>) => Promise<number>;

/**
 * Raw, schema-driven access to an index database (SQLite or PostgreSQL) for export and import:
 * tables and columns are read from the database itself, so a column a later migration adds is
 * exported and imported without this code knowing it.
 */
export interface TableAccess {
  /** `sqlite` or `postgres`, for the dump's header */
  readonly engine: string;
  schemaVersion(): Promise<number>;
  /** every table but schema_migrations; `attestations` first (others reference it), then by name */
  tables(): Promise<TableShape[]>;
  /**
   * Runs `fn` over one consistent snapshot (a read transaction); `each` streams one table's rows
   * in its first column's order, integers as numbers, awaiting `onRow` (backpressure), and returns
   * how many it read.
   */
  snapshot<T>(fn: (each: EachRow) => Promise<T>): Promise<T>;
  /** Runs `fn` in one transaction: committed when it returns, rolled back when it throws. */
  transaction<T>(fn: (insert: (table: string, row: Row) => Promise<void>) => Promise<T>): Promise<T>;
  /** how many rows `table` holds (import refuses a non-empty index) */
  count(table: string): Promise<number>;
  close(): Promise<void>;
}

/** `attestations` first (foreign keys point at it), the rest by name. */
export function exportOrder(names: string[]): string[] {
  return [...names].sort((a, b) =>
    a === 'attestations' ? -1 : b === 'attestations' ? 1 : a.localeCompare(b),
  );
}

/**
 * Columns that triggers keep as running totals of other tables (migration 11/9: the bytes of
 * captured runs per namespace). An import leaves them at their defaults and lets the triggers
 * recount them as the rows they total are inserted; copying them as well would count twice.
 */
export const TRIGGER_TOTALS: Readonly<Record<string, readonly string[]>> = {
  namespace_usage: ['capture_bytes'],
};
