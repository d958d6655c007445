import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { kubeConfigFor, loadLocalEnv, up } from '../test/env/index.ts';
import { putSigningSecret } from '../test/helpers/observer.ts';
import { completeTaskRun, createNamespace } from './backlog/cluster.ts';
import { ImageFactory } from './backlog/images.ts';
import { ObserverProcess } from './backlog/observer-process.ts';
import { SignedTracker } from './backlog/signed-tracker.ts';

/**
 * `npm run bench -- fairness [--slow-ms MS] [--status 503|404]`: the observer (its own process, 4 workers) serves two
 * tenants on the real local environment. Tenant B completes B_RUNS fresh runs one every 500 ms,
 * first while tenant A is idle, then while A has A_RUNS runs naming a registry that answers every
 * request after `--slow-ms` (default 29 s, as in the hostile-registry issue) with `--status`
 * (default 503). Prints B's
 * p99 completion→signed in both phases and their ratio (goal ≤ 2), measured in the same run.
 */
const A_RUNS = 4;
/** images per A run (the issue: 4 runs × 30 images) */
const A_IMAGES = 30;
const B_RUNS = 20;
const WORKERS = 4;

export async function runFairnessBench(args: readonly string[]): Promise<string> {
  const option = (name: string, fallback: number) => {
    const i = args.indexOf(name);
    return i >= 0 ? Number(args[i + 1]) : fallback;
  };
  const slowMs = option('--slow-ms', 29_000);
  // 503: the host fails (its circuit opens after 5); 404: it answers, slowly (the breaker never helps)
  const status = option('--status', 503);
  await up((line) => console.error(`[env] ${line}`), 'cli');
  const env = loadLocalEnv();
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  await putSigningSecret(env, { 'x509.pem': privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() });
  const admin = kubeConfigFor('admin');
  const stamp = Date.now().toString(36);
  const [nsA, nsB] = [`fair-a-${stamp}`, `fair-b-${stamp}`];
  for (const ns of [nsA, nsB]) await createNamespace(admin, ns);

  const slow = createServer((req, res) => {
    req.resume();
    setTimeout(() => res.writeHead(status).end(), slowMs).unref();
  });
  await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
  const slowHost = `127.0.0.1:${(slow.address() as AddressInfo).port}`;

  const images = new ImageFactory({ registry: env.registry, repository: `bench/fair-${stamp}` });
  const tracker = new SignedTracker({ kubeConfig: admin, namespace: nsB });
  tracker.start();
  const observer = await ObserverProcess.start({
    kubeconfig: env.kubeconfigs.observer,
    config: {
      'observer.namespaces': `${nsA},${nsB}`,
      'controller.workers': String(WORKERS),
      'storage.oci.insecure-registries': `${env.registry},${slowHost}`,
    },
  });
  try {
    await observer.ready();
    const phase = async (label: string) => {
      const completed = new Map<string, number>();
      for (let n = 0; n < B_RUNS; n++) {
        const name = `b-${label}-${n}`;
        completed.set(name, await completeTaskRun(admin, nsB, name, await images.push(name)));
        await new Promise((r) => setTimeout(r, 500));
      }
      await tracker.until(() => [...completed.keys()].every((k) => tracker.signedAt.has(k)));
      const ms = [...completed]
        .map(([k, at]) => (tracker.signedAt.get(k) as number) - at)
        .sort((a, b) => a - b);
      return ms[Math.min(ms.length - 1, Math.ceil(ms.length * 0.99) - 1)] as number;
    };
    console.error('[fairness] B alone');
    const idle = await phase('idle');
    console.error(`[fairness] A: ${A_RUNS} runs on a registry answering after ${slowMs} ms`);
    for (let n = 0; n < A_RUNS; n++) {
      const images = Array.from({ length: A_IMAGES }, (_, k) => ({
        ref: `${slowHost}/a/app-${k}`,
        digest: `sha256:${(n * A_IMAGES + k).toString(16).padStart(64, 'a')}`,
      }));
      await completeTaskRun(admin, nsA, `a-slow-${n}`, images[0] as (typeof images)[0], images.slice(1));
    }
    await new Promise((r) => setTimeout(r, 1_000));
    const busy = await phase('busy');
    return [
      `B p99 completion→signed, A idle: ${idle} ms`,
      `B p99 completion→signed, A busy (${A_RUNS} runs × ${A_IMAGES} images, registry answering ${status} after ${slowMs} ms, ${WORKERS} workers): ${busy} ms`,
      `- ratio busy / idle: ${(busy / idle).toFixed(2)} (goal ≤ 2)`,
    ].join('\n');
  } finally {
    tracker.stop();
    await observer.stop();
    slow.closeAllConnections();
    slow.close();
  }
}
