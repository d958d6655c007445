import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AttestationIndex, SqliteIndex } from '../src/index/index.ts';
import { PgIndex } from '../src/index/pg/pg-index.ts';
import {
  consistencyProof,
  type DecisionEntry,
  inclusionProof,
  type NodeId,
  treeRoot,
} from '../src/log/index.ts';
import type { RunRecord } from '../src/model/index.ts';
import { loadLocalEnv } from '../test/env/index.ts';
import { ScratchDatabases } from '../test/helpers/postgres.ts';

/**
 * `npm run bench -- log [--pg] [SIZES]`: the decision log on a SQLite index file (with `--pg`: on
 * a scratch database of the local environment's PostgreSQL, default sizes 10^4 and 10^5). The tree is grown to each
 * size (default 10^4, 10^5, 10^6) by batched appends (50,000 entries a transaction); at each size:
 * the cost of one run's record written with its decision under its claim (the observer's path:
 * one transaction) against the same write without a decision, and the time of an inclusion proof
 * (random leaf, against the whole tree) and of a consistency proof (random older size), median and
 * p95 of 200 each. Proof times are the stored-node reads and the folds, not HTTP.
 */
const entry = (i: number): DecisionEntry => ({
  v: 1,
  type: 'attested',
  run: { uid: `uid-${i}`, kind: 'TaskRun', namespace: `tenant-${i % 50}`, name: `build-${i}` },
  predicateType: 'https://slsa.dev/provenance/v1',
  payloadDigest: `sha256:${i.toString(16).padStart(64, '0')}`,
  subjects: [{ name: 'registry.example/app', digest: `sha256:${(i * 7).toString(16).padStart(64, '0')}` }],
  keyIds: ['SHA256:bench'],
  stored: [{ backend: 'oci', locations: [`registry.example/app:sha256-${i}.att`] }],
  at: '2026-12-05T00:00:00.000Z',
});

const record = (uid: string): RunRecord => ({
  uid,
  run: { kind: 'TaskRun', namespace: 'tenant-a', name: uid },
  status: 'attested',
  attempts: 0,
  updatedAt: new Date(0),
});

function stats(samples: number[]): { median: number; p95: number } {
  const s = [...samples].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)] ?? 0, p95: s[Math.floor(s.length * 0.95)] ?? 0 };
}

async function timed(n: number, fn: (i: number) => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await fn(i);
    out.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return out;
}

export async function runDecisionLogBench(args: string[]): Promise<string> {
  const pg = args.includes('--pg');
  const numbers = args.filter((a) => a !== '--pg').map(Number);
  const sizes = numbers.length ? numbers : pg ? [10_000, 100_000] : [10_000, 100_000, 1_000_000];
  const dir = mkdtempSync(join(tmpdir(), 'bench-log-'));
  const databases = pg ? new ScratchDatabases(loadLocalEnv().postgresUrl) : undefined;
  const index: AttestationIndex = databases
    ? await PgIndex.open({ url: await databases.create(), tls: { mode: 'disable' } })
    : new SqliteIndex({ path: join(dir, 'index.db'), maxBytes: 8 * 1024 ** 3 });
  const read = (ids: readonly NodeId[]) => index.logNodes(ids);
  const rows = [
    '| entries | grow (s) | record alone (ms, median) | record + decision (ms, median / p95) | inclusion proof (ms, median / p95) | consistency proof (ms, median / p95) | file (MB) |',
    '|---|---|---|---|---|---|---|',
  ];
  let size = 0;
  let extra = 0;
  try {
    for (const target of sizes) {
      const grow = Date.now();
      while (size < target) {
        const n = Math.min(50_000, target - size);
        await index.appendDecisions(Array.from({ length: n }, (_, i) => entry(size + i)));
        size += n;
      }
      const grewS = (Date.now() - grow) / 1000;
      const claim = async (uid: string) => {
        const c = await index.claimRun(uid, 'bench', 60_000);
        if (!c.held) throw new Error('claim not held');
        return { owner: 'bench', fence: c.fence };
      };
      const alone = await timed(200, async (i) => {
        const uid = `plain-${target}-${i}`;
        await index.putRunRecord(record(uid), await claim(uid));
      });
      const logged = await timed(200, async (i) => {
        const uid = `logged-${target}-${i}`;
        const fence = await claim(uid);
        await index.putRunRecord(record(uid), fence, [
          { ...entry(10_000_000 + extra++), run: { uid, kind: 'TaskRun', namespace: 'tenant-a', name: uid } },
        ]);
      });
      size += 200;
      const now = await index.logSize();
      await treeRoot(read, now);
      const inclusion = await timed(200, () => inclusionProof(read, Math.floor(Math.random() * now), now));
      const consistency = await timed(200, () =>
        consistencyProof(read, 1 + Math.floor(Math.random() * (now - 1)), now),
      );
      const [a, l, inc, con] = [stats(alone), stats(logged), stats(inclusion), stats(consistency)];
      const mb = pg ? '–' : (statSync(join(dir, 'index.db')).size / 1024 ** 2).toFixed(0);
      rows.push(
        `| ${now.toLocaleString('en')} | ${grewS.toFixed(1)} | ${a.median.toFixed(3)} | ${l.median.toFixed(3)} / ${l.p95.toFixed(3)} | ${inc.median.toFixed(3)} / ${inc.p95.toFixed(3)} | ${con.median.toFixed(3)} / ${con.p95.toFixed(3)} | ${mb} |`,
      );
      console.error(rows.at(-1));
    }
  } finally {
    await index.close();
    await databases?.dropAll();
    rmSync(dir, { recursive: true, force: true });
  }
  return rows.join('\n');
}
