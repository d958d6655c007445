import { afterAll, describe, expect, it } from 'vitest';
import { PgDb } from '../../src/index/pg/pg-connection.ts';
import { PgIndex } from '../../src/index/pg/pg-index.ts';
import { migratePg, PG_MIGRATIONS } from '../../src/index/pg/pg-schema.ts';
import { CONTRACT_MIGRATIONS } from '../../src/index/schema-compat.ts';
import { loadLocalEnv } from '../env/index.ts';
import { ScratchDatabases } from '../helpers/postgres.ts';
import { newAttestation } from '../unit/index/attestation-fixtures.ts';
import { captureContract } from '../unit/index/capture-contract.ts';
import { indexContract } from '../unit/index/index-contract.ts';

const env = loadLocalEnv();
const databases = new ScratchDatabases(env.postgresUrl);
afterAll(() => databases.dropAll());

/** The next release's migration, expand-only (docs/index-of-record.md). */
const NEXT = `
  ALTER TABLE run_work ADD COLUMN rollback_probe TEXT NOT NULL DEFAULT '';
  CREATE TABLE rollback_probe_table (id TEXT PRIMARY KEY);
`;

/** A database the next build has migrated; `contracts` as that build declares them. */
async function migratedByNextBuild(contracts: ReadonlySet<number> = CONTRACT_MIGRATIONS): Promise<string> {
  const url = await databases.create();
  const db = new PgDb({ url, tls: { mode: 'disable' } });
  try {
    await migratePg(db, Date.now, { migrations: [...PG_MIGRATIONS, NEXT], contracts });
  } finally {
    await db.end();
  }
  return url;
}

// Rollback on PostgreSQL (the HA overlay rolls back with maxUnavailable: 0, so old and new replicas
// share the schema): this build's code runs the whole index contract on a schema one expand-only
// migration newer than it knows.
indexContract('PgIndex on the next schema (rolled back)', async (clock) =>
  PgIndex.open({ url: await migratedByNextBuild(), tls: { mode: 'disable' }, now: () => clock.now }),
);
captureContract('PgIndex on the next schema (rolled back)', async (clock) =>
  PgIndex.open({ url: await migratedByNextBuild(), tls: { mode: 'disable' }, now: () => clock.now }),
);

describe('PostgreSQL schema versions across builds', () => {
  it('refuses a newer schema whose migration is a contract, naming the build it needs', async () => {
    const next = PG_MIGRATIONS.length + 1;
    const url = await migratedByNextBuild(new Set([next]));
    await expect(PgIndex.open({ url, tls: { mode: 'disable' } })).rejects.toMatchObject({
      code: 'index',
      retryable: false,
      message: expect.stringContaining(`needs a build that knows schema ${next} or newer`),
    });
  });

  it('records oldest_compatible on every version it applies', async () => {
    const url = await migratedByNextBuild();
    const index = await PgIndex.open({ url, tls: { mode: 'disable' } });
    await index.addAttestation(newAttestation({}));
    await index.close();
    const rows = await databases.admin<{ version: number; oldest_compatible: number }>(
      'SELECT version, oldest_compatible FROM schema_migrations ORDER BY version',
      [],
      new URL(url).pathname.slice(1),
    );
    expect(rows).toEqual([...PG_MIGRATIONS, NEXT].map((_, i) => ({ version: i + 1, oldest_compatible: 1 })));
  });
});
