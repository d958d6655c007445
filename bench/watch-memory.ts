import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Controller } from '../src/controller/index.ts';
import { KubeConnection, RunApi, RunWatcher } from '../src/kube/index.ts';
import { createLogger, createMetrics } from '../src/observability/index.ts';
import { kubeAccessWithToken } from '../test/env/index.ts';

/**
 * Memory of the watch path against the number of finished runs in the cluster. A stand-in
 * apiserver serves N realistic finished TaskRuns (~6 KiB each, paged lists, then a quiet watch);
 * the real RunWatcher and Controller observe them all, and the index says each is already
 * attested (the steady state after a restart). We report retained heap after a forced GC for
 * N = 2,000 and N = 20,000, against a baseline measured in the same run: the heap an
 * informer-style cache of the same objects retains. Run with --expose-gc (npm run bench does).
 */
export interface WatchMemoryRow {
  runs: number;
  /** heap retained by the observer after observing every run (MiB) */
  observerMiB: number;
  /** heap retained by a cache holding every run object, as an informer does (MiB) */
  cacheMiB: number;
}

function taskRun(i: number) {
  const name = `build-${i}`;
  return {
    apiVersion: 'tekton.dev/v1',
    kind: 'TaskRun',
    metadata: {
      name,
      namespace: `tenant-${i % 50}`,
      uid: `uid-${i}`,
      resourceVersion: String(i + 10),
      labels: { 'tekton.dev/pipelineTask': 'build', 'tekton.dev/task': 'buildah' },
      annotations: { 'chains.tekton.dev/signed': 'true' },
    },
    spec: {
      taskRef: {
        resolver: 'bundles',
        params: [{ name: 'bundle', value: `quay.io/konflux-ci/task-buildah:0.10@sha256:${'a'.repeat(64)}` }],
      },
      params: Array.from({ length: 20 }, (_, p) => ({
        name: `PARAM_${p}`,
        value: `value-${p}-${'x'.repeat(40)}`,
      })),
    },
    status: {
      conditions: [{ type: 'Succeeded', status: 'True', reason: 'Succeeded' }],
      startTime: '2026-11-26T10:00:00Z',
      completionTime: '2026-11-26T10:05:00Z',
      results: [
        { name: 'IMAGE_URL', type: 'string', value: `quay.io/tenant/app-${i}` },
        { name: 'IMAGE_DIGEST', type: 'string', value: `sha256:${i.toString(16).padStart(64, '0')}` },
      ],
      steps: Array.from({ length: 8 }, (_, s) => ({
        name: `step-${s}`,
        container: `step-step-${s}`,
        imageID: `quay.io/konflux-ci/buildah@sha256:${'b'.repeat(64)}`,
        terminated: {
          exitCode: 0,
          reason: 'Completed',
          startedAt: '2026-11-26T10:00:00Z',
          finishedAt: '2026-11-26T10:05:00Z',
        },
      })),
      taskSpec: {
        steps: Array.from({ length: 8 }, (_, s) => ({
          name: `step-${s}`,
          image: 'quay.io/konflux-ci/buildah',
          script: `#!/bin/bash\nset -e\necho step ${s}\n${'# padding\n'.repeat(10)}`,
        })),
      },
    },
  };
}

async function standInApiserver(runs: number): Promise<{ server: Server; connection: KubeConnection }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    res.writeHead(200, { 'content-type': 'application/json' });
    if (url.searchParams.get('watch') === 'true') return; // a quiet watch, left open
    const total = url.pathname.endsWith('/taskruns') ? runs : 0;
    const start = Number(url.searchParams.get('continue') || 0);
    const limit = Number(url.searchParams.get('limit') || 500);
    const items = Array.from({ length: Math.max(0, Math.min(limit, total - start)) }, (_, k) =>
      taskRun(start + k),
    );
    const next = start + items.length < total ? String(start + items.length) : undefined;
    res.end(JSON.stringify({ kind: 'List', metadata: { resourceVersion: '5', continue: next }, items }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const access = kubeAccessWithToken(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, 't');
  return { server, connection: new KubeConnection({ access }) };
}

function retainedMiB(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  gc();
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

async function observerHeap(runs: number): Promise<number> {
  const { server, connection } = await standInApiserver(runs);
  const before = retainedMiB();
  let observed = 0;
  const source = new RunWatcher({
    connection,
    runApi: new RunApi({ connection }),
    logger: createLogger({ level: 'silent' }),
    namespaces: [],
    managedBy: [],
  });
  const controller = new Controller({
    source: {
      start: (observe) =>
        source.start((o) => {
          observed++;
          return observe(o);
        }),
      stop: () => source.stop(),
      synced: () => source.synced(),
    },
    index: {
      captureRuns: async () => {},
      unsettledCaptures: async () => [],
      markRunDeleted: async () => {},
      getRunRecord: async (uid) => ({
        uid,
        run: { kind: 'TaskRun', namespace: '', name: '' },
        status: 'attested',
        attempts: 0,
        updatedAt: new Date(),
      }),
    },
    reconciler: { reconcile: async () => ({}) },
    metrics: createMetrics(),
    logger: createLogger({ level: 'silent' }),
  });
  await controller.start();
  if (observed !== runs) throw new Error(`observed ${observed} of ${runs} runs`);
  await new Promise((r) => setTimeout(r, 200));
  const after = retainedMiB();
  await controller.stop();
  server.closeAllConnections();
  server.close();
  return after - before;
}

function cacheHeap(runs: number): number {
  const before = retainedMiB();
  const cache = new Map<string, unknown>();
  for (let i = 0; i < runs; i++) cache.set(`uid-${i}`, JSON.parse(JSON.stringify(taskRun(i))));
  const after = retainedMiB();
  if (cache.size !== runs) throw new Error('cache lost objects');
  return after - before;
}

/**
 * Each size is measured in a fresh process (bytecode flushing off, so V8 dropping unused code does
 * not show up as negative retention), after a small warm-up pass.
 */
export async function runWatchMemoryBench(sizes = [2_000, 20_000]): Promise<WatchMemoryRow[]> {
  return sizes.map((runs) => {
    const args = ['--expose-gc', '--no-flush-bytecode', fileURLToPath(import.meta.url), String(runs)];
    return JSON.parse(execFileSync(process.execPath, args, { encoding: 'utf8' })) as WatchMemoryRow;
  });
}

async function measureOne(runs: number): Promise<WatchMemoryRow> {
  await observerHeap(200);
  return { runs, observerMiB: await observerHeap(runs), cacheMiB: cacheHeap(runs) };
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2]) {
  process.stdout.write(JSON.stringify(await measureOne(Number(process.argv[2]))));
}

export function formatWatchMemoryTable(rows: WatchMemoryRow[]): string {
  const lines = [
    'finished runs  observer retained MiB  object cache MiB  observer ÷ cache',
    '-------------  ---------------------  ----------------  ----------------',
  ];
  for (const r of rows)
    lines.push(
      `${String(r.runs).padEnd(13)}  ${r.observerMiB.toFixed(2).padEnd(21)}  ${r.cacheMiB.toFixed(1).padEnd(16)}  ${(r.observerMiB / r.cacheMiB).toFixed(4)}`,
    );
  const [small, large] = rows;
  if (small && large)
    lines.push(
      '',
      `growth ${small.runs}→${large.runs} runs: observer ×${(large.observerMiB / Math.max(small.observerMiB, 0.01)).toFixed(2)}, cache ×${(large.cacheMiB / small.cacheMiB).toFixed(2)}`,
    );
  return lines.join('\n');
}
