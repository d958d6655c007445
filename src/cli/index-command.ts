import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Writable } from 'node:stream';
import { loadConfig, readConfigSource } from '../config/index.ts';
import { ObserverError } from '../errors.ts';
import { exportIndex, importIndex, openTableAccess, type TransferSummary } from '../index/index.ts';
import { parseFlags, parseSets } from './args.ts';
import { readCa } from './compose/setup.ts';

const USAGE = `usage: provenance-observer index export|import [--config <dir|file>] [--set key=value]... [--file <path>]

export  writes the whole index of record as NDJSON (a header, one line per row, an end line with
        row counts and the SHA-256 of everything before it) to --file, default stdout; one
        consistent snapshot, streamed.
import  loads such a dump into an EMPTY index (SQLite or PostgreSQL, whichever wrote it), from
        --file, default stdin; one transaction, committed only when the checksum and the row
        counts match. Stop the observer first.
The index is the one the configuration names (index.url, else index.path), as for \`run\`.
Prints a summary (rows per table, sha256) on stderr. docs/index-of-record.md "Backup".`;

export async function indexCommand(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  const { values } = parseFlags(
    rest,
    { config: { type: 'string' }, set: { type: 'string', multiple: true }, file: { type: 'string' } },
    USAGE,
  );
  if (values.help || action === '--help' || action === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (action !== 'export' && action !== 'import')
    throw new ObserverError(`index: expected export or import\n${USAGE}`, {
      code: 'config_invalid',
      retryable: false,
    });
  const path = values.config as string | undefined;
  const overrides = parseSets(values.set as string[] | undefined);
  const config = loadConfig({ path, source: path ? readConfigSource(path) : undefined, overrides });
  const { caFile, mode } = config.indexTls;
  const access = await openTableAccess({
    url: config.indexUrl,
    path: config.indexPath,
    tls: { mode, ...(caFile ? { ca: readCa(caFile) } : {}) },
  });
  try {
    const file = values.file as string | undefined;
    const summary = action === 'export' ? await exportTo(access, file) : await importFrom(access, file);
    const counts = Object.entries(summary.rows)
      .map(([t, n]) => `${t}=${n}`)
      .join(' ');
    process.stderr.write(
      `index ${action}: schema ${summary.schemaVersion}, ${counts}, sha256 ${summary.sha256}\n`,
    );
    return 0;
  } finally {
    await access.close();
  }
}

async function exportTo(
  access: Parameters<typeof exportIndex>[0],
  file: string | undefined,
): Promise<TransferSummary> {
  const out: Writable = file ? createWriteStream(file, { mode: 0o600 }) : process.stdout;
  const summary = await exportIndex(access, async (line) => {
    if (!out.write(line)) await once(out, 'drain');
  });
  if (file) {
    out.end();
    await once(out, 'finish');
  }
  return summary;
}

function importFrom(
  access: Parameters<typeof importIndex>[0],
  file: string | undefined,
): Promise<TransferSummary> {
  const input = file ? createReadStream(file) : process.stdin;
  return importIndex(access, createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY }));
}
