import { mkdtempSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SqliteIndex } from '../../src/index/index.ts';
import { kubeConfigFor, type LocalEnv, loadLocalEnv } from '../env/index.ts';
import { startTestObserver, type TestObserver } from '../helpers/observer.ts';
import { tcpForwarder } from '../helpers/tcp-forwarder.ts';
import { completeBuildTaskRun, getRun, waitFor, waitForSigned } from '../helpers/tekton.ts';
import { pushTestImage } from '../helpers/test-image.ts';

/**
 * The issue asks for a registry down for 60 s; the test scales it down to DOWN_MS with the retry
 * base scaled alike (attempt n waits at least RETRY_BASE_MS·2^(n-1)/2, equal jitter), so the
 * arithmetic is the same: with max-attempts 5 the four waits add up to at least 7.5·base > DOWN_MS.
 */
const DOWN_MS = 8_000;
const RETRY_BASE_MS = 1_500;
const RUNS = 3;

/** Fairness: tenant A's runs name a registry that answers after SLOW_MS; 2 workers. */
const SLOW_MS = 3_000;
const A_RUNS = 8;
const B_RUNS = 3;
const WORKERS = 2;

/** A registry stand-in that answers every request with a 503 after SLOW_MS (a slow, failing host). */
async function slowRegistry() {
  const timers = new Set<NodeJS.Timeout>();
  const server = createHttpServer((req, res) => {
    req.resume();
    const t = setTimeout(() => {
      timers.delete(t);
      res.writeHead(503).end();
    }, SLOW_MS);
    timers.add(t);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      for (const t of timers) clearTimeout(t);
      server.closeAllConnections();
      server.close();
    },
  };
}

/** Completes a build TaskRun in `namespace` naming `image`; returns when it was completed. */
async function completeIn(namespace: string, name: string, image: { ref: string; digest: string }) {
  await completeBuildTaskRun(image, { name, namespace });
  return Date.now();
}

/** Completes B's runs at once and returns each one's completion→signed time in ms. */
async function bLatencies(env: LocalEnv, label: string): Promise<number[]> {
  const runs = [];
  for (let i = 0; i < B_RUNS; i++) {
    const image = await pushTestImage(env.registry, `fair/b-${label}-${i}-${Date.now()}`);
    runs.push({ name: `b-${label}-${i}-${Date.now()}`, image });
  }
  const completed = await Promise.all(runs.map((r) => completeIn('tenant-b', r.name, r.image)));
  return Promise.all(
    runs.map(async (r, i) => {
      await waitForSigned('TaskRun', 'tenant-b', r.name);
      return Date.now() - (completed[i] as number);
    }),
  );
}

/** The real registry behind a forwarder a test can take down (port closed) and bring back. */
async function switchableRegistry(target: string) {
  const [host, port] = target.split(':') as [string, string];
  const forwarder = await tcpForwarder(host, Number(port));
  return { ...forwarder, address: `127.0.0.1:${forwarder.port}` };
}

describe('fair, bounded work on the real cluster and registry', () => {
  let env: LocalEnv;
  let obs: TestObserver | undefined;
  let cleanup: (() => void)[] = [];
  beforeAll(() => {
    env = loadLocalEnv();
  });
  afterEach(async () => {
    await obs?.stop();
    obs = undefined;
    for (const c of cleanup) c();
    cleanup = [];
  });

  it(`a registry down for ${DOWN_MS / 1000} s: every run completed meanwhile ends signed=true, attempts spaced per the index`, async () => {
    const registry = await switchableRegistry(env.registry);
    cleanup.push(registry.close);
    const indexPath = join(mkdtempSync(join(tmpdir(), 'fair-work-')), 'index.db');
    obs = await startTestObserver(env, {
      'index.path': indexPath,
      'attestation.max-attempts': '5',
      'attestation.retry-base-ms': String(RETRY_BASE_MS),
      // the per-host breaker's cool-down scaled with the outage (default 30 s against the issue's
      // 60 s): a failure while the circuit is open still counts as an attempt
      'storage.oci.circuit-breaker.cool-down-seconds': '1',
      'storage.oci.insecure-registries': `${env.registry},${registry.address}`,
    });
    const images = [];
    for (let i = 0; i < RUNS; i++) {
      const pushed = await pushTestImage(env.registry, `fair/down-${i}-${Date.now()}`);
      images.push({ ...pushed, ref: pushed.ref.replace(env.registry, registry.address) });
    }
    await registry.down();
    const downAt = Date.now();
    const names: string[] = [];
    for (const [i, image] of images.entries())
      names.push(await completeBuildTaskRun(image, { name: `down-${i}-${Date.now()}` }));
    const completedAt = Date.now();
    // at least one failed attempt per run happened while the registry was down
    const index = new SqliteIndex({ path: indexPath });
    cleanup.push(() => void index.close());
    const uids = await Promise.all(
      names.map(
        async (n) => (await getRun(kubeConfigFor('admin'), 'TaskRun', 'tenant-a', n)).metadata.uid as string,
      ),
    );
    for (const uid of uids)
      await waitFor(
        `a first attempt on ${uid}`,
        async () => ((await index.getRunWork(uid))?.attempts ?? 0) >= 1 || undefined,
      );
    const remaining = DOWN_MS - (Date.now() - downAt);
    await waitFor(
      'the outage to last its time',
      async () => Date.now() - downAt >= DOWN_MS || undefined,
      remaining + 5_000,
    );
    await registry.up();
    const upAt = Date.now();

    for (const name of names) await waitForSigned('TaskRun', 'tenant-a', name);
    for (const name of names) {
      const run = await getRun(kubeConfigFor('admin'), 'TaskRun', 'tenant-a', name);
      expect(run.metadata.annotations?.['chains.tekton.dev/signed']).toBe('true');
    }
    const report = [];
    for (const uid of uids) {
      const work = await index.getRunWork(uid);
      const attempts = work?.attempts ?? 0;
      const last = work?.lastAttemptAt?.getTime() ?? 0;
      // n attempts mean n-1 waits of at least base·2^i/2 each, all after the run completed
      const minSpacing = Array.from({ length: attempts - 1 }, (_, i) => (RETRY_BASE_MS * 2 ** i) / 2).reduce(
        (a, b) => a + b,
        0,
      );
      report.push({ uid, attempts, lastAttemptAfterCompletionMs: last - completedAt, minSpacing });
      expect(attempts).toBeGreaterThanOrEqual(2);
      expect(attempts).toBeLessThanOrEqual(5);
      expect(last - (completedAt - 1_000)).toBeGreaterThanOrEqual(minSpacing);
      // the attempt that succeeded ran after the registry came back
      expect(last).toBeGreaterThanOrEqual(upAt - 50);
    }
    console.info('registry down', DOWN_MS, 'ms; runs', JSON.stringify(report));
  }, 120_000);

  it('a busy tenant holds at most its share of the workers: B is signed promptly while A waits on a slow registry', async () => {
    const slow = await slowRegistry();
    cleanup.push(slow.close);
    obs = await startTestObserver(env, {
      'controller.workers': String(WORKERS),
      'attestation.attempt-timeout-seconds': '30',
      'storage.oci.insecure-registries': `${env.registry},${slow.address}`,
    });
    const alone = await bLatencies(env, 'alone');
    // A: runs naming the slow registry, completed first, so their keys are ahead of B's
    const digest = (i: number) => `sha256:${i.toString(16).padStart(64, 'a')}`;
    const aNames = [];
    for (let i = 0; i < A_RUNS; i++) {
      const name = `a-slow-${i}-${Date.now()}`;
      await completeIn('tenant-a', name, { ref: `${slow.address}/a/app:v${i}`, digest: digest(i) });
      aNames.push(name);
    }
    const busy = await bLatencies(env, 'busy');
    // A's first runs are still unsigned: A was busy the whole time B was measured
    const a0 = await getRun(kubeConfigFor('admin'), 'TaskRun', 'tenant-a', aNames[A_RUNS - 1] as string);
    expect(a0.metadata.annotations?.['chains.tekton.dev/signed']).not.toBe('true');
    const max = (xs: number[]) => Math.max(...xs);
    console.info(
      `B completion→signed, ms: alone ${JSON.stringify(alone)}, A busy ${JSON.stringify(busy)}, ratio of maxima ${(max(busy) / max(alone)).toFixed(2)}`,
    );
    // Unfair (FIFO) B would wait behind A's queued runs: (A_RUNS / WORKERS) · SLOW_MS = 12 s before
    // its first attempt (measured: 15 s). Fair: A never holds the spare worker, so B starts at once;
    // the bound allows B to wait out one of A's attempts too (existence check and store: 2 · SLOW_MS).
    expect(max(busy)).toBeLessThan(max(alone) + 2 * SLOW_MS + 2_000);
  }, 180_000);
});
