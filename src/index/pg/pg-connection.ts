import { Pool, type PoolClient, type PoolConfig, type QueryResultRow } from 'pg';
import { parse } from 'pg-connection-string';
import { INDEX_DISK_FULL, ObserverError } from '../../errors.ts';
import type { Logger } from '../../observability/index.ts';

/**
 * TLS to the database, as libpq's `sslmode`: `disable` (plain TCP), `require` (encrypted, the
 * server's certificate not checked), `verify-full` (encrypted, the certificate must chain to `ca`
 * or the system CAs and name the host). https://www.postgresql.org/docs/15/libpq-ssl.html
 */
export type PgTlsMode = 'disable' | 'require' | 'verify-full';

export interface PgConnectionOptions {
  /** postgres://user[:password]@host:port/database (no password: PGPASSWORD); TLS is set by `tls`, so `sslmode` is refused */
  url: string;
  /** default: `verify-full` when `ca` is given, else `require` */
  tls?: { mode?: PgTlsMode; ca?: string };
  /** connections kept open; default 10 */
  poolSize?: number;
  /** how long to wait for a connection; default 5000 ms */
  connectTimeoutMs?: number;
  /** how long a query may take before it fails (and its connection is dropped); default 15000 ms */
  queryTimeoutMs?: number;
  logger?: Pick<Logger, 'warn'>;
}

export type Query = <R extends QueryResultRow>(sql: string, params?: unknown[]) => Promise<R[]>;

/**
 * A pool of connections with the index's error mapping. The pool reconnects on its own: a broken
 * connection is dropped and the next call opens a new one, so while the database is down every
 * call fails with a retryable `index` error and works again once it is back. Messages name the
 * database as host:port/name, never with its credentials.
 */
export class PgDb {
  /** host:port/database, for messages */
  readonly where: string;
  readonly #pool: Pool;

  constructor(options: PgConnectionOptions) {
    const config = poolConfig(options);
    this.where = `${config.host}:${config.port}/${config.database}`;
    this.#pool = new Pool(config);
    // an idle connection the server closes is reported here; without a listener it would crash the process
    this.#pool.on('error', (err) =>
      options.logger?.warn({ err: err.message }, `index ${this.where}: idle connection lost`),
    );
  }

  async query<R extends QueryResultRow>(context: string, sql: string, params: unknown[] = []): Promise<R[]> {
    try {
      return (await this.#pool.query<R>(sql, params)).rows;
    } catch (err) {
      throw this.error(context, err);
    }
  }

  /** One connection held for `fn` (session-level advisory locks), released afterwards. */
  async session<T>(context: string, fn: (query: Query) => Promise<T>): Promise<T> {
    let client: PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (err) {
      throw this.error(context, err);
    }
    try {
      const result = await fn(async (sql, params) => (await client.query(sql, params)).rows);
      client.release();
      return result;
    } catch (err) {
      client.release(true);
      throw this.error(context, err);
    }
  }

  async healthy(): Promise<boolean> {
    try {
      await this.#pool.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  async end(): Promise<void> {
    if (!this.#pool.ended) await this.#pool.end();
  }

  error(context: string, err: unknown): ObserverError {
    if (err instanceof ObserverError) return err;
    const code = (err as { code?: unknown }).code;
    const detail = err instanceof Error ? err.message : String(err);
    const full = code === DISK_FULL ? 'database disk full, nothing was written: ' : '';
    return new ObserverError(`${context} (index ${this.where}): ${full}${detail}`, {
      code: 'index',
      retryable: !(typeof code === 'string' && PERMANENT.test(code)),
      ...(code === DISK_FULL ? { reason: INDEX_DISK_FULL } : {}),
      cause: err,
    });
  }
}

/**
 * SQLSTATE classes that retrying cannot fix: data exceptions (22), integrity violations (23),
 * syntax or access rule violations (42). Everything else — connection failures (08, 57P0x, no
 * SQLSTATE at all), insufficient resources (53, disk full among them), serialization (40) — may
 * pass later. https://www.postgresql.org/docs/15/errcodes-appendix.html
 */
const PERMANENT = /^(22|23|42)[0-9A-Z]{3}$/;
const DISK_FULL = '53100';

/** The pool's settings: the URL as the driver itself parses it (pg-connection-string), TLS from `tls` only. */
function poolConfig(options: PgConnectionOptions): PoolConfig {
  const url = parseUrl(options.url);
  const mode = options.tls?.mode ?? (options.tls?.ca ? 'verify-full' : 'require');
  return {
    host: url.host ?? undefined,
    port: Number(url.port || 5432),
    user: url.user,
    // none in the URL: the driver falls back to PGPASSWORD (e.g. from a Secret)
    password: url.password || undefined,
    database: url.database || url.user,
    ssl: tlsConfig(mode, options.tls?.ca),
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    query_timeout: options.queryTimeoutMs ?? 15_000,
    keepAlive: true,
    application_name: 'provenance-observer',
  };
}

function tlsConfig(mode: PgTlsMode, ca: string | undefined): PoolConfig['ssl'] {
  switch (mode) {
    case 'disable':
      return false;
    case 'require':
      return { rejectUnauthorized: false };
    case 'verify-full':
      return ca === undefined ? { rejectUnauthorized: true } : { rejectUnauthorized: true, ca };
  }
}

/** The URL's parts, refusing what the driver would read past: another scheme, no host, an sslmode. */
function parseUrl(text: string): ReturnType<typeof parse> {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw configError('index.url is not a URL (want postgres://user:password@host:port/database)');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:')
    throw configError(`index.url scheme "${url.protocol}" is not postgres: or postgresql:`);
  if (!url.hostname) throw configError('index.url names no host');
  if (url.searchParams.has('sslmode'))
    throw configError('index.url has sslmode: set TLS with index.tls-mode (and index.tls-ca-file) instead');
  return parse(text);
}

const configError = (message: string) =>
  new ObserverError(message, { code: 'config_invalid', retryable: false });
