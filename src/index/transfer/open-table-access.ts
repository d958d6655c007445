import type { PgTlsMode } from '../pg/pg-connection.ts';
import { SqliteTableAccess } from './sqlite-table-access.ts';
import type { TableAccess } from './table-access.ts';

/**
 * The index the configuration names (as indexFromOptions: PostgreSQL when `url` is set, else the
 * SQLite file at `path`), opened for export or import; its schema is brought up to this build's
 * first. pg loads only for a PostgreSQL URL.
 */
export async function openTableAccess(o: {
  url?: string;
  path: string;
  tls?: { mode?: PgTlsMode; ca?: string };
}): Promise<TableAccess> {
  if (!o.url) return new SqliteTableAccess(o.path);
  const { PgTableAccess } = await import('./pg-table-access.ts');
  return PgTableAccess.open({ url: o.url, ...(o.tls ? { tls: o.tls } : {}) });
}
