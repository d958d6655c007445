import { createHash } from 'node:crypto';
import { ObserverError } from '../../errors.ts';
import { type Row, type TableAccess, type TableShape, TRIGGER_TOTALS } from './table-access.ts';

/** The first line of a dump. */
export interface DumpHeader {
  format: 'provenance-observer-index';
  version: 1;
  engine: string;
  schemaVersion: number;
  tables: TableShape[];
  createdAt: string;
}

/** The last line: row counts per table and the SHA-256 of every byte before this line. */
export interface DumpEnd {
  end: true;
  rows: Record<string, number>;
  sha256: string;
}

export interface TransferSummary {
  schemaVersion: number;
  rows: Record<string, number>;
  sha256: string;
}

const FORMAT = 'provenance-observer-index';

/**
 * Writes the whole index as NDJSON: a header, one `{"table","row"}` line per row (tables in
 * foreign-key order, from one consistent snapshot), and an end line carrying row counts and the
 * SHA-256 of everything before it, so a truncated or altered dump is refused on import. `write`
 * is awaited per line (backpressure); memory stays flat whatever the index's size.
 */
export async function exportIndex(
  access: TableAccess,
  write: (line: string) => Promise<void>,
  now: () => Date = () => new Date(),
): Promise<TransferSummary> {
  const hash = createHash('sha256');
  const emit = async (value: unknown) => {
    const line = `${JSON.stringify(value)}\n`;
    hash.update(line);
    await write(line);
  };
  const tables = await access.tables();
  const schemaVersion = await access.schemaVersion();
  const header: DumpHeader = {
    format: FORMAT,
    version: 1,
    engine: access.engine,
    schemaVersion,
    tables,
    createdAt: now().toISOString(),
  };
  await emit(header);
  const rows: Record<string, number> = {};
  await access.snapshot(async (each) => {
    for (const table of tables)
      rows[table.name] = await each(table, (row) => emit({ table: table.name, row }));
  });
  const sha256 = hash.digest('hex');
  const end: DumpEnd = { end: true, rows, sha256 };
  await write(`${JSON.stringify(end)}\n`);
  return { schemaVersion, rows, sha256 };
}

/**
 * Loads a dump into an empty index (either engine, whatever engine wrote it), in one transaction
 * that commits only when the end line's checksum and row counts match what was read: a truncated,
 * altered or mis-ordered dump changes nothing. Columns are matched by name, so a dump from an
 * older schema loads into a newer one (added columns take their defaults); a column or table the
 * target does not have is refused by name.
 */
export async function importIndex(
  access: TableAccess,
  lines: AsyncIterable<string>,
): Promise<TransferSummary> {
  // taken first: a readline source drops lines emitted before anyone iterates it
  const iterator = lines[Symbol.asyncIterator]();
  const target = new Map((await access.tables()).map((t) => [t.name, new Set(t.columns)]));
  for (const name of target.keys())
    if ((await access.count(name)) > 0)
      throw bad(`the target index is not empty (table ${name} has rows); import needs an empty index`);
  const hash = createHash('sha256');
  const first = await iterator.next();
  if (first.done) throw bad('the dump is empty');
  const header = parseLine<DumpHeader>(first.value, 1);
  if (header.format !== FORMAT || header.version !== 1)
    throw bad(
      `line 1 is not a provenance-observer index dump (format ${String(header.format)} version ${String(header.version)})`,
    );
  hash.update(withNewline(first.value));
  const rows: Record<string, number> = {};
  const end = await access.transaction(async (insert) => {
    for (let n = 2; ; n++) {
      const next = await iterator.next();
      if (next.done) throw bad(`the dump ends at line ${n - 1} without its end line (truncated?)`);
      const line = parseLine<{ table?: string; row?: Row } & Partial<DumpEnd>>(next.value, n);
      if (line.end === true) {
        // checked before the transaction commits: a bad dump leaves nothing behind
        verifyEnd(line as DumpEnd, hash.digest('hex'), rows, header);
        if (!(await iterator.next()).done) throw bad('lines follow the end line');
        return line as DumpEnd;
      }
      hash.update(withNewline(next.value));
      const { table, row } = line;
      const columns = typeof table === 'string' ? target.get(table) : undefined;
      if (!columns || !row || typeof row !== 'object') throw bad(`line ${n}: unknown table ${String(table)}`);
      for (const c of Object.keys(row))
        if (!columns.has(c)) throw bad(`line ${n}: table ${table} has no column ${c} in this build's schema`);
      await insert(table as string, withoutTotals(table as string, row));
      rows[table as string] = (rows[table as string] ?? 0) + 1;
    }
  });
  return { schemaVersion: header.schemaVersion, rows, sha256: end.sha256 };
}

/** the row without the columns triggers total (they recount as the totalled rows arrive) */
function withoutTotals(table: string, row: Row): Row {
  const totals = TRIGGER_TOTALS[table];
  if (!totals) return row;
  return Object.fromEntries(Object.entries(row).filter(([c]) => !totals.includes(c)));
}

function verifyEnd(end: DumpEnd, sha256: string, rows: Record<string, number>, header: DumpHeader): void {
  if (end.sha256 !== sha256)
    throw bad(`checksum mismatch: the dump says ${end.sha256}, its lines hash to ${sha256}`);
  for (const t of header.tables)
    if ((end.rows[t.name] ?? 0) !== (rows[t.name] ?? 0))
      throw bad(
        `table ${t.name}: the end line counts ${end.rows[t.name] ?? 0} rows, ${rows[t.name] ?? 0} were read`,
      );
}

function parseLine<T>(text: string, n: number): T {
  try {
    const value = JSON.parse(text) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as T;
  } catch {
    // reported below, without echoing the line (it may hold an envelope)
  }
  throw bad(`line ${n} is not a JSON object`);
}

const withNewline = (line: string) => (line.endsWith('\n') ? line : `${line}\n`);

function bad(message: string): ObserverError {
  return new ObserverError(`importing the index: ${message}`, { code: 'input_invalid', retryable: false });
}
