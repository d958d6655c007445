import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgIndex } from '../../src/index/pg/pg-index.ts';
import { SqliteIndex } from '../../src/index/sqlite/sqlite-index.ts';
import { type LocalEnv, loadLocalEnv } from '../env/index.ts';
import { startTestObserver } from '../helpers/observer.ts';
import { ScratchDatabases } from '../helpers/postgres.ts';
import { completeBuildTaskRun, waitForSigned } from '../helpers/tekton.ts';
import { pushTestImage } from '../helpers/test-image.ts';

const BIN = resolve(import.meta.dirname, '../../bin/provenance-observer.js');
const exec = promisify(execFile);

// `provenance-observer index export|import` between a real SQLite index (filled by a running
// observer) and a real PostgreSQL, both ways, with the checksum refusing a damaged dump.
describe('index export and import', () => {
  let env: LocalEnv;
  let databases: ScratchDatabases;
  const dir = mkdtempSync(join(tmpdir(), 'index-transfer-'));
  const sqlitePath = join(dir, 'index.db');
  const uids: string[] = [];

  beforeAll(async () => {
    env = loadLocalEnv();
    databases = new ScratchDatabases(env.postgresUrl);
    const obs = await startTestObserver(env, { 'index.path': sqlitePath });
    try {
      for (const i of [1, 2]) {
        const image = await pushTestImage(env.registry, `transfer/img-${i}-${Date.now()}`);
        const name = await completeBuildTaskRun(image, { name: `transfer-${i}-${Date.now()}` });
        uids.push((await waitForSigned('TaskRun', 'tenant-a', name)).metadata.uid as string);
      }
    } finally {
      await obs.stop();
    }
  });
  afterAll(async () => databases?.dropAll());

  const pg = async () => {
    const url = await databases.create();
    return {
      url,
      sets: [
        '--set',
        `index.url=${url}`,
        '--set',
        'index.tls-mode=verify-full',
        '--set',
        `index.tls-ca-file=${env.postgresCaFile}`,
      ],
    };
  };
  const cli = (args: string[]) =>
    exec(process.execPath, [BIN, 'index', ...args]).then(
      (r) => ({ code: 0, ...r }),
      (err: { code: number; stdout: string; stderr: string }) => err,
    );
  /** the row lines of a dump, sorted (engines order text differently) */
  const rowsOf = (file: string) => readFileSync(file, 'utf8').trim().split('\n').slice(1, -1).sort();

  it('moves SQLite → PostgreSQL → SQLite with every row intact, and the copies are usable indexes', async () => {
    const first = join(dir, 'first.ndjson');
    const exported = await cli(['export', '--set', `index.path=${sqlitePath}`, '--file', first]);
    expect(exported.code).toBe(0);
    expect(exported.stderr).toMatch(/index export: schema \d+, attestations=\d+ .*sha256 [0-9a-f]{64}/);
    const target = await pg();
    expect((await cli(['import', ...target.sets, '--file', first])).code).toBe(0);
    const second = join(dir, 'second.ndjson');
    expect((await cli(['export', ...target.sets, '--file', second])).code).toBe(0);
    expect(rowsOf(second)).toEqual(rowsOf(first));
    const back = join(dir, 'back.db');
    expect((await cli(['import', '--set', `index.path=${back}`, '--file', second])).code).toBe(0);
    const third = join(dir, 'third.ndjson');
    await cli(['export', '--set', `index.path=${back}`, '--file', third]);
    expect(rowsOf(third)).toEqual(rowsOf(first));

    const pgIndex = await PgIndex.open({
      url: target.url,
      tls: { mode: 'verify-full', ca: readFileSync(env.postgresCaFile, 'utf8') },
    });
    const sqlite = new SqliteIndex({ path: back });
    try {
      for (const uid of uids) {
        expect((await pgIndex.getRunRecord(uid))?.status).toBe('attested');
        expect((await sqlite.getRunRecord(uid))?.status).toBe('attested');
      }
      // the decision log moves with its nodes: same size, same root, in both copies
      const { treeRoot } = await import('../../src/log/index.ts');
      const size = await sqlite.logSize();
      expect(size).toBeGreaterThanOrEqual(uids.length);
      expect(await pgIndex.logSize()).toBe(size);
      const pgRoot = await treeRoot((ids) => pgIndex.logNodes(ids), size);
      expect(pgRoot.equals(await treeRoot((ids) => sqlite.logNodes(ids), size))).toBe(true);
    } finally {
      await pgIndex.close();
      await sqlite.close();
    }
  });

  it('refuses a damaged or truncated dump and leaves the target empty; refuses a non-empty target', async () => {
    const dump = join(dir, 'good.ndjson');
    await cli(['export', '--set', `index.path=${sqlitePath}`, '--file', dump]);
    const lines = readFileSync(dump, 'utf8').split('\n');
    const damaged = join(dir, 'damaged.ndjson');
    // a plausible edit the database would accept: the run's kind swapped in the first row
    const swap = (l: string) =>
      l.replace(
        /"kind":"(TaskRun|PipelineRun)"/,
        (_, k) => `"kind":"${k === 'TaskRun' ? 'PipelineRun' : 'TaskRun'}"`,
      );
    writeFileSync(damaged, lines.map((l, i) => (i === 1 ? swap(l) : l)).join('\n'));
    expect(readFileSync(damaged, 'utf8')).not.toBe(lines.join('\n'));
    const target = await pg();
    const refused = await cli(['import', ...target.sets, '--file', damaged]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/checksum mismatch/);
    const truncated = join(dir, 'truncated.ndjson');
    writeFileSync(truncated, lines.slice(0, -2).join('\n'));
    expect((await cli(['import', ...target.sets, '--file', truncated])).stderr).toMatch(
      /without its end line/,
    );
    // nothing was committed: the good dump still goes into the same database
    expect((await cli(['import', ...target.sets, '--file', dump])).code).toBe(0);
    const again = await cli(['import', ...target.sets, '--file', dump]);
    expect(again.stderr).toMatch(/not empty/);
  });
});
