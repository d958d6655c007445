import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { SqliteIndex } from '../../../src/index/index.ts';
import { CONTRACT_MIGRATIONS } from '../../../src/index/schema-compat.ts';
import { MIGRATIONS, migrate } from '../../../src/index/sqlite/sqlite-schema.ts';
import { newAttestation } from './attestation-fixtures.ts';
import { captureContract } from './capture-contract.ts';
import { indexContract } from './index-contract.ts';

/**
 * The next release's migration, as a later build would add it: expand-only (a column with a
 * default on run_work, a new table, an index), the kind docs/index-of-record.md allows.
 */
const NEXT = `
  ALTER TABLE run_work ADD COLUMN rollback_probe TEXT NOT NULL DEFAULT '';
  CREATE TABLE rollback_probe_table (id TEXT PRIMARY KEY);
  CREATE INDEX run_states_by_status ON run_states (status);
`;
const NEXT_BUILD = { migrations: [...MIGRATIONS, NEXT], contracts: CONTRACT_MIGRATIONS };

/** A file the next build has migrated (and so recorded as compatible from schema 1). */
function migratedByNextBuild(contracts: ReadonlySet<number> = CONTRACT_MIGRATIONS): string {
  const path = join(mkdtempSync(join(tmpdir(), 'rollback-')), 'index.db');
  const db = new DatabaseSync(path);
  migrate(db, Date.now, { migrations: NEXT_BUILD.migrations, contracts });
  db.close();
  return path;
}

// Rollback: this build's code on a schema one expand-only migration newer than it knows. The whole
// index contract (the same suite every index passes) runs against it.
indexContract('SqliteIndex on the next schema (rolled back)', async (clock) => {
  return new SqliteIndex({ path: migratedByNextBuild(), now: () => clock.now });
});
captureContract('SqliteIndex on the next schema (rolled back)', async (clock) => {
  return new SqliteIndex({ path: migratedByNextBuild(), now: () => clock.now });
});

describe('schema versions across builds', () => {
  it('this build opens a newer expand-only schema as it is, and leaves its version alone', async () => {
    const path = migratedByNextBuild();
    const index = new SqliteIndex({ path });
    await index.addAttestation(newAttestation({}));
    await index.close();
    const db = new DatabaseSync(path);
    expect(
      db.prepare('SELECT version, oldest_compatible FROM schema_migrations ORDER BY version').all(),
    ).toEqual(NEXT_BUILD.migrations.map((_, i) => ({ version: i + 1, oldest_compatible: 1 })));
    db.close();
  });

  it('refuses a newer schema whose migration is a contract, naming the build it needs', () => {
    const next = MIGRATIONS.length + 1;
    const path = migratedByNextBuild(new Set([next]));
    expect(() => new SqliteIndex({ path })).toThrow(
      `schema version ${next} is newer than this build knows (${MIGRATIONS.length}) and needs a build that knows schema ${next} or newer`,
    );
  });

  it("the previous build's migrate accepts this build's schema (every migration so far is expand-only)", () => {
    const path = join(mkdtempSync(join(tmpdir(), 'rollback-')), 'index.db');
    new SqliteIndex({ path }).close();
    const db = new DatabaseSync(path);
    expect(
      migrate(db, Date.now, { migrations: MIGRATIONS.slice(0, -1), contracts: CONTRACT_MIGRATIONS }),
    ).toBe(MIGRATIONS.length);
    db.close();
  });
});
