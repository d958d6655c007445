/**
 * Schema compatibility across builds (docs/index-of-record.md, "Schema versions and rollback").
 *
 * Migrations are expand-only by default: they add tables, columns with defaults, or indexes, so
 * the code of every earlier schema version still runs on the result. Each recorded migration
 * stores `oldest_compatible` in schema_migrations: the oldest schema version whose code may run on
 * the database. An expand-only migration keeps its predecessor's value; a migration listed as a
 * contract (it drops, renames or tightens something) sets it to its own version. A build that
 * knows schema N opens a database at version V > N when V's row says `oldest_compatible <= N`
 * (a rollback under `maxUnavailable: 0`), and refuses it otherwise, naming the versions.
 *
 * Rows recorded before this column existed hold NULL; migrations 1–5 (SQLite) and 1–3
 * (PostgreSQL) were all expand-only, so NULL at or below a build's own version counts as 1. A
 * NULL on a version newer than the build is unknown and refused.
 */
export interface SchemaCompat {
  /** versions whose migration is not expand-only; empty so far */
  contracts: ReadonlySet<number>;
}

/** Versions whose migration is a contract (SQLite and PostgreSQL alike). Add a version here, with a reason, when one is. */
export const CONTRACT_MIGRATIONS: ReadonlySet<number> = new Set<number>();

/** The `oldest_compatible` to record for version `v`, given the value recorded for `v - 1`. */
export function oldestCompatibleFor(
  v: number,
  previous: number | null,
  contracts: ReadonlySet<number>,
): number {
  return contracts.has(v) ? v : (previous ?? 1);
}

/**
 * Whether a build knowing `known` schema versions may run on a database at `current` whose latest
 * row records `oldest` (null: not recorded). Returns the refusal's text, or undefined when it may.
 */
export function newerSchemaRefusal(
  current: number,
  oldest: number | null,
  known: number,
): string | undefined {
  if (current <= known) return undefined;
  if (oldest === null)
    return `schema version ${current} is newer than this build knows (${known}) and records no compatibility`;
  if (oldest > known)
    return `schema version ${current} is newer than this build knows (${known}) and needs a build that knows schema ${oldest} or newer`;
  return undefined;
}
