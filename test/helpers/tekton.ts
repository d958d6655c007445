import {
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { kubeConfigFor } from '../env/index.ts';

/**
 * Plays Tekton's part in tests: Tekton is not running, so a tenant creates the run and the test
 * (as cluster admin, like Tekton's controller) writes its status through the status subresource.
 */
export type Kind = 'TaskRun' | 'PipelineRun';
const plural = (kind: Kind) => (kind === 'TaskRun' ? 'taskruns' : 'pipelineruns');

export async function createRun(
  kc: KubeConfig,
  kind: Kind,
  namespace: string,
  name: string,
  spec: object,
  metadata: object = {},
) {
  const api = kc.makeApiClient(CustomObjectsApi);
  return (await api.createNamespacedCustomObject({
    group: 'tekton.dev',
    version: 'v1',
    namespace,
    plural: plural(kind),
    body: { apiVersion: 'tekton.dev/v1', kind, metadata: { name, namespace, ...metadata }, spec },
  })) as { metadata: { uid: string; annotations?: Record<string, string> } };
}

export async function setRunStatus(
  kc: KubeConfig,
  kind: Kind,
  namespace: string,
  name: string,
  status: object,
) {
  const api = kc.makeApiClient(CustomObjectsApi);
  await api.patchNamespacedCustomObjectStatus(
    { group: 'tekton.dev', version: 'v1', namespace, plural: plural(kind), name, body: { status } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}

export async function getRun(kc: KubeConfig, kind: Kind, namespace: string, name: string) {
  const api = kc.makeApiClient(CustomObjectsApi);
  return (await api.getNamespacedCustomObject({
    group: 'tekton.dev',
    version: 'v1',
    namespace,
    plural: plural(kind),
    name,
  })) as {
    metadata: { uid: string; annotations?: Record<string, string> };
  };
}

export async function patchRunAnnotations(
  kc: KubeConfig,
  kind: Kind,
  namespace: string,
  name: string,
  annotations: Record<string, string | null>,
) {
  const api = kc.makeApiClient(CustomObjectsApi);
  await api.patchNamespacedCustomObject(
    {
      group: 'tekton.dev',
      version: 'v1',
      namespace,
      plural: plural(kind),
      name,
      body: { metadata: { annotations } },
    },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}

/** Polls until `check` returns a value (not undefined), or fails after `timeoutMs` naming `what`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    // the poll interval of this deadline-bounded poll of observable state
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
}

/** Events recorded on a run (by involvedObject name). */
export async function runEvents(kc: KubeConfig, namespace: string, name: string) {
  const api = kc.makeApiClient(CoreV1Api);
  const list = await api.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name}` });
  return list.items;
}

/** A completed TaskRun status as Tekton writes it, with the given results and one step. */
export function succeededTaskRunStatus(
  results: { name: string; value: unknown; type?: string }[],
  options: { succeeded?: boolean } = {},
) {
  return {
    conditions: [
      {
        type: 'Succeeded',
        status: options.succeeded === false ? 'False' : 'True',
        reason: options.succeeded === false ? 'Failed' : 'Succeeded',
        lastTransitionTime: '2026-11-26T10:00:10Z',
      },
    ],
    podName: 'build-pod',
    startTime: '2026-11-26T10:00:00Z',
    completionTime: '2026-11-26T10:00:10Z',
    results: results.map((r) => ({ type: 'string', ...r })),
    steps: [
      {
        name: 'build',
        container: 'step-build',
        imageID:
          'docker.io/library/busybox@sha256:1863ad7a4f2d77d2c8b7f4b8d3c7ae0d7d5bd2e7c2b0c0b6a1b0e2f5d3c4b5a6',
        terminated: { exitCode: 0, reason: 'Completed' },
      },
    ],
    taskSpec: { steps: [{ name: 'build', image: 'docker.io/library/busybox', script: 'echo building' }] },
  };
}

/**
 * A tenant creates a build TaskRun in its namespace (default tenant-a) and "Tekton" completes it
 * with IMAGE_URL/IMAGE_DIGEST for `image` plus any extra results. Returns the run's name.
 */
export async function completeBuildTaskRun(
  image: { ref: string; digest: string },
  options: {
    name: string;
    extraResults?: { name: string; value: string }[];
    params?: object[];
    /** annotations the tenant sets at creation (e.g. a forged chains.tekton.dev/signed) */
    annotations?: Record<string, string>;
    /** default tenant-a (created by its developer); another namespace is written by the admin */
    namespace?: string;
  },
): Promise<string> {
  const { name, namespace = 'tenant-a' } = options;
  await createRun(
    kubeConfigFor(namespace === 'tenant-a' ? 'tenantA' : namespace === 'tenant-b' ? 'tenantB' : 'admin'),
    'TaskRun',
    namespace,
    name,
    { taskRef: { name: 'buildah' }, params: options.params ?? [] },
    options.annotations ? { annotations: options.annotations } : {},
  );
  await setRunStatus(
    kubeConfigFor('admin'),
    'TaskRun',
    namespace,
    name,
    succeededTaskRunStatus([
      { name: 'IMAGE_URL', value: image.ref },
      { name: 'IMAGE_DIGEST', value: image.digest },
      ...(options.extraResults ?? []),
    ]),
  );
  return name;
}

/** Waits until the run carries chains.tekton.dev/signed: "true" and returns it. */
export function waitForSigned(kind: Kind, namespace: string, name: string) {
  return waitFor(`signed=true on ${kind} ${namespace}/${name}`, async () => {
    const r = await getRun(kubeConfigFor('admin'), kind, namespace, name);
    return r.metadata.annotations?.['chains.tekton.dev/signed'] === 'true' ? r : undefined;
  });
}

/** Deletes a run (as the cluster admin); with finalizers left it stays, Terminating. */
export async function deleteRun(kc: KubeConfig, kind: Kind, namespace: string, name: string) {
  const api = kc.makeApiClient(CustomObjectsApi);
  await api.deleteNamespacedCustomObject({
    group: 'tekton.dev',
    version: 'v1',
    namespace,
    plural: plural(kind),
    name,
  });
}

/** The run, or undefined once it is gone (404). */
export async function findRun(kc: KubeConfig, kind: Kind, namespace: string, name: string) {
  try {
    return (await getRun(kc, kind, namespace, name)) as Awaited<ReturnType<typeof getRun>> & {
      metadata: { finalizers?: string[]; deletionTimestamp?: string };
    };
  } catch (err) {
    if ((err as { code?: number }).code === 404) return undefined;
    throw err;
  }
}

/** The `chains.tekton.dev/signed` mark of every run of `kind` in `namespace`, by name (one list call). */
export async function signedMarks(
  kc: KubeConfig,
  kind: Kind,
  namespace: string,
): Promise<Map<string, string>> {
  const api = kc.makeApiClient(CustomObjectsApi);
  const list = (await api.listNamespacedCustomObject({
    group: 'tekton.dev',
    version: 'v1',
    namespace,
    plural: plural(kind),
  })) as { items: { metadata: { name: string; annotations?: Record<string, string> } }[] };
  return new Map(
    list.items.map((r) => [r.metadata.name, r.metadata.annotations?.['chains.tekton.dev/signed'] ?? '']),
  );
}

/**
 * Deletes every TaskRun and PipelineRun in `namespace` (namespaces themselves are never deleted
 * here: no namespace controller runs). Tests whose runs name a registry that goes away with them
 * call it so that later observers, watching every namespace, do not inherit their backlog.
 */
export async function deleteAllRuns(kc: KubeConfig, namespace: string): Promise<void> {
  const api = kc.makeApiClient(CustomObjectsApi);
  for (const kind of ['TaskRun', 'PipelineRun'] as const)
    await api.deleteCollectionNamespacedCustomObject({
      group: 'tekton.dev',
      version: 'v1',
      namespace,
      plural: plural(kind),
    });
}
