import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/**
 * Scratch databases on the test environment's PostgreSQL: each test gets an empty one, so tests
 * never see each other's rows. `dropAll` removes them (connections forced closed).
 */
export class ScratchDatabases {
  readonly #adminUrl: string;
  readonly #names: string[] = [];

  constructor(adminUrl: string) {
    this.#adminUrl = adminUrl;
  }

  /** Creates an empty database; returns its URL (same credentials and server as the admin URL). */
  async create(): Promise<string> {
    const name = `index_${randomBytes(6).toString('hex')}`;
    await this.admin(`CREATE DATABASE ${name}`);
    this.#names.push(name);
    const url = new URL(this.#adminUrl);
    url.pathname = `/${name}`;
    return url.toString();
  }

  /** Runs one statement as the superuser on `database` (default: the admin database). */
  async admin<R>(sql: string, params: unknown[] = [], database?: string): Promise<R[]> {
    const url = new URL(this.#adminUrl);
    if (database) url.pathname = `/${database}`;
    const client = new Client({ connectionString: url.toString(), ssl: false });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows as R[];
    } finally {
      await client.end();
    }
  }

  async dropAll(): Promise<void> {
    for (const name of this.#names.splice(0))
      await this.admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}
