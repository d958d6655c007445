import type { Logger } from '../observability/index.ts';
import type { AttestationIndex } from './attestation-index.ts';
import type { PgTlsMode } from './pg/pg-connection.ts';
import type { IndexSeal } from './seal/index-seal.ts';
import { SqliteIndex } from './sqlite/sqlite-index.ts';

/** What chooses and opens the index (config keys `index.*`). */
export interface IndexSelection {
  /** `postgres://…` selects PostgreSQL (shared by replicas); empty or absent selects SQLite at `path` */
  url?: string;
  /** SQLite file (or `:memory:`); its directory must exist */
  path: string;
  /** PostgreSQL TLS: mode and the CA certificate (PEM text, not a file name) */
  tls?: { mode?: PgTlsMode; ca?: string };
  logger?: Pick<Logger, 'warn'>;
  /** clock for claim leases; default Date.now */
  now?: () => number;
  /** seals the rows that lead to a signature (the observer's, keyed from its Secret); default a per-process key */
  seal?: IndexSeal;
  /** SQLite only: the most bytes the database file may grow to (`index.volume-bytes`); default none */
  maxBytes?: number;
}

/**
 * Opens the index the selection names: PostgreSQL when `url` is set, else the embedded SQLite
 * default. Both are migrated before this resolves.
 */
export async function indexFromOptions(selection: IndexSelection): Promise<AttestationIndex> {
  const now = selection.now ?? Date.now;
  if (selection.url) {
    // pg (and its pool) load only for a postgres URL; the SQLite default never carries them
    const { PgIndex } = await import('./pg/pg-index.ts');
    const { url, tls, logger, seal } = selection;
    return PgIndex.open({ url, tls, logger, now, ...(seal ? { seal } : {}) });
  }
  return new SqliteIndex({
    path: selection.path,
    now,
    ...(selection.seal ? { seal: selection.seal } : {}),
    ...(selection.maxBytes ? { maxBytes: selection.maxBytes } : {}),
  });
}
