import { generateKeyPairSync } from 'node:crypto';
import { CoreV1Api } from '@kubernetes/client-node';
import { AttestationChecks, Attestor } from '../src/attest/index.ts';
import { parseConfig } from '../src/config/index.ts';
import { CoreApi, KubeConnection, NamespaceLabels, PodReader } from '../src/kube/index.ts';
import { createLogger, createMetrics } from '../src/observability/index.ts';
import { parseSubjectPolicy, SubjectExistenceCheck } from '../src/policy/index.ts';
import { loadX509Pem } from '../src/signing/index.ts';
import { type BackendName, OciClients, type StorageBackend } from '../src/storage/index.ts';
import type { TektonRun } from '../src/tekton/index.ts';
import type { RunRef } from '../src/tekton/run-ref.ts';
import { kubeAccessFor, kubeConfigFor, loadLocalEnv, up } from '../test/env/index.ts';
import { pushTestImage } from '../test/helpers/test-image.ts';

/**
 * What the attestation checks (docs/security.md) cost per TaskRun, on the local environment's real
 * apiserver and registry: the extra requests (registry HEADs, Pod and Namespace gets) and the
 * milliseconds of one attest() with the checks on versus off, same run, same process (storage is
 * a no-op so only the checks differ). Cold: every run names a new image (nothing cached); warm:
 * the same image again (its positive HEAD answer is cached). Reports only; asserts nothing.
 */
export interface ChecksBenchRow {
  case: string;
  runs: number;
  registryRequestsPerRun: number;
  kubeRequestsPerRun: number;
  /** median ms of attest() with the checks */
  withChecksMs: number;
  /** median ms of attest() without them */
  withoutChecksMs: number;
}

const STEP_IMAGE = `docker.io/library/busybox@sha256:${'1'.repeat(64)}`;

export async function runChecksBench(runs = 20): Promise<ChecksBenchRow[]> {
  await up(() => {}, 'cli');
  const env = loadLocalEnv();
  const admin = kubeConfigFor('admin').makeApiClient(CoreV1Api);
  const images: { ref: string; digest: string }[] = [];
  for (let i = 0; i < runs; i++) images.push(await pushTestImage(env.registry, `tenant-a/bench-checks-${i}`));
  const podName = `bench-checks-${Date.now()}`;
  await admin.createNamespacedPod({
    namespace: 'tenant-a',
    body: {
      metadata: {
        name: podName,
        ownerReferences: [{ apiVersion: 'tekton.dev/v1', kind: 'TaskRun', name: 'b', uid: 'bench-uid' }],
      },
      spec: { containers: [{ name: 'step-build', image: 'busybox' }] },
    },
  });
  const observer = new KubeConnection({ access: kubeAccessFor('observer') });
  const metrics = createMetrics();
  let kubeRequests = 0;
  const core = new CoreApi(observer);
  const pods = new PodReader({
    api: {
      readNamespacedPod: (p) => {
        kubeRequests++;
        return core.readNamespacedPod(p);
      },
    },
  });
  const labels = new NamespaceLabels({
    api: {
      readNamespace: (p) => {
        kubeRequests++;
        return core.readNamespace(p);
      },
    },
    logger: createLogger({ level: 'silent' }),
  });
  const clients = new OciClients({ insecure: true, metrics, allowedPrivate: ['127.0.0.1'] });
  const checks = new AttestationChecks({
    // a label rule besides the name rule, so the Namespace is read as for a label-selecting policy
    policy: parseSubjectPolicy(
      `rules: [{name: bench, namespaces: [tenant-a], repositories: ["${env.registry}/$` +
        `{namespace}/**"]}, {name: labelled, namespaceSelector: {matchLabels: {team: x}}, repositories: [x.io/y]}]`,
    ),
    executionCheck: 'record',
    existence: new SubjectExistenceCheck({
      clientFor: async (run, image) => {
        const at = image.repository.indexOf('/');
        const repository = image.repository.slice(at + 1);
        return { client: await clients.client(run, image.repository.slice(0, at), repository), repository };
      },
    }),
    pods,
    namespaceLabels: (ns) => labels.get(ns),
  });
  const attestor = (withChecks: boolean) =>
    new Attestor({
      config: parseConfig({}),
      backends: new Map<BackendName, StorageBackend>(
        (['tekton', 'oci'] as const).map((name) => [
          name,
          { name, store: async () => ({ backend: name, ok: true, locations: [] }) },
        ]),
      ),
      metrics: createMetrics(),
      checks: withChecks ? checks : undefined,
    });
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signer = loadX509Pem(
    new TextEncoder().encode(privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()),
    {
      namespace: 'bench',
      name: 'bench',
      entry: 'x509.pem',
    },
  );
  const measure = async (
    name: string,
    imageOf: (i: number) => { ref: string; digest: string },
  ): Promise<ChecksBenchRow> => {
    const registryBefore = await headCount(metrics);
    const kubeBefore = kubeRequests;
    const withMs: number[] = [];
    const withoutMs: number[] = [];
    for (let i = 0; i < runs; i++) {
      const run: RunRef = {
        kind: 'TaskRun',
        namespace: 'tenant-a',
        name: `b${i}`,
        uid: `bench-uid`,
        serviceAccountName: 'default',
      };
      const object = taskRun(imageOf(i), podName);
      for (const [withChecks, into] of [
        [true, withMs],
        [false, withoutMs],
      ] as const) {
        const started = performance.now();
        await attestor(withChecks).attest(run, object, [], signer);
        into.push(performance.now() - started);
      }
    }
    return {
      case: name,
      runs,
      registryRequestsPerRun: ((await headCount(metrics)) - registryBefore) / runs,
      kubeRequestsPerRun: (kubeRequests - kubeBefore) / runs,
      withChecksMs: median(withMs),
      withoutChecksMs: median(withoutMs),
    };
  };
  const rows = [
    await measure('cold: a new image per run', (i) => images[i]!),
    await measure('warm: the same image again', () => images[0]!),
  ];
  await admin.deleteNamespacedPod({ name: podName, namespace: 'tenant-a' });
  return rows;
}

function taskRun(image: { ref: string; digest: string }, podName: string): TektonRun {
  return {
    kind: 'TaskRun',
    metadata: { name: 'b', namespace: 'tenant-a', uid: 'bench-uid' },
    spec: {},
    status: {
      conditions: [{ type: 'Succeeded', status: 'True' }],
      podName,
      results: [
        { name: 'IMAGE_URL', value: image.ref },
        { name: 'IMAGE_DIGEST', value: image.digest },
      ],
      steps: [{ name: 'build', container: 'step-build', imageID: STEP_IMAGE }],
    },
  } as unknown as TektonRun;
}

async function headCount(metrics: ReturnType<typeof createMetrics>): Promise<number> {
  const values = (await metrics.registryRequests.get()).values;
  return values.reduce((sum, v) => sum + v.value, 0);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

export function formatChecksTable(rows: ChecksBenchRow[]): string {
  const header = [
    'case',
    'runs',
    'registry req/run',
    'kube req/run',
    'attest ms (checks)',
    'attest ms (none)',
    'extra ms',
  ];
  const body = rows.map((r) => [
    r.case,
    String(r.runs),
    r.registryRequestsPerRun.toFixed(2),
    r.kubeRequestsPerRun.toFixed(2),
    r.withChecksMs.toFixed(2),
    r.withoutChecksMs.toFixed(2),
    (r.withChecksMs - r.withoutChecksMs).toFixed(2),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((row) => (row[c] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}
