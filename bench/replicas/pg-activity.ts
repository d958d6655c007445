import { Client } from 'pg';

/** What PostgreSQL did for one database: transactions, and rows written per table. */
export interface PgActivity {
  /** committed + rolled back transactions (each statement outside BEGIN … COMMIT is one) */
  transactions: number;
  /** rows read by index and sequential scans */
  rowsRead: number;
  /** per table: rows inserted, updated (incl. HOT), deleted, and rows read by sequential scans */
  tables: Record<string, TableActivity>;
}

export interface TableActivity {
  inserted: number;
  updated: number;
  deleted: number;
  seqRead: number;
}

/**
 * Reads the cumulative statistics of the database at `url` (pg_stat_database, pg_stat_user_tables).
 * Backends flush their counters when idle for a second or when they exit: read after the
 * observers closed their connections.
 */
export async function pgActivity(url: string): Promise<PgActivity> {
  const client = new Client({ connectionString: url, ssl: false });
  await client.connect();
  try {
    await client.query('SELECT pg_stat_clear_snapshot()');
    const [db] = (
      await client.query<{ transactions: string; rows_read: string }>(
        `SELECT xact_commit + xact_rollback AS transactions, tup_returned + tup_fetched AS rows_read
         FROM pg_stat_database WHERE datname = current_database()`,
      )
    ).rows;
    const tables = (
      await client.query<{ relname: string; ins: string; upd: string; del: string; seq: string }>(
        `SELECT relname, n_tup_ins AS ins, n_tup_upd AS upd, n_tup_del AS del, seq_tup_read AS seq
         FROM pg_stat_user_tables`,
      )
    ).rows;
    return {
      transactions: Number(db.transactions),
      rowsRead: Number(db.rows_read),
      tables: Object.fromEntries(
        tables.map((t) => [
          t.relname,
          { inserted: Number(t.ins), updated: Number(t.upd), deleted: Number(t.del), seqRead: Number(t.seq) },
        ]),
      ),
    };
  } finally {
    await client.end();
  }
}

/** `after - before`, tables that wrote nothing left out. */
export function activitySince(before: PgActivity, after: PgActivity): PgActivity {
  const tables: PgActivity['tables'] = {};
  for (const [name, a] of Object.entries(after.tables)) {
    const b = before.tables[name] ?? { inserted: 0, updated: 0, deleted: 0, seqRead: 0 };
    const d = {
      inserted: a.inserted - b.inserted,
      updated: a.updated - b.updated,
      deleted: a.deleted - b.deleted,
      seqRead: a.seqRead - b.seqRead,
    };
    if (d.inserted || d.updated || d.deleted || d.seqRead) tables[name] = d;
  }
  return {
    transactions: after.transactions - before.transactions,
    rowsRead: after.rowsRead - before.rowsRead,
    tables,
  };
}
