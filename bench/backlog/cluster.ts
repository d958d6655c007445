import {
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';

const GROUP = { group: 'tekton.dev', version: 'v1', plural: 'taskruns' } as const;
const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** One client per KubeConfig (with reuseConnections applied by the caller, one connection pool). */
const clients = new WeakMap<KubeConfig, CustomObjectsApi>();
function customObjects(kc: KubeConfig): CustomObjectsApi {
  const api = clients.get(kc) ?? kc.makeApiClient(CustomObjectsApi);
  clients.set(kc, api);
  return api;
}

/**
 * Deletes a bench namespace's TaskRuns (one deletecollection: the local environment has no
 * namespace controller to empty a deleted namespace) and the namespace, so later observers and
 * tests in the same environment do not find thousands of runs to attest.
 */
export async function deleteNamespace(admin: KubeConfig, name: string): Promise<void> {
  await customObjects(admin).deleteCollectionNamespacedCustomObject({ ...GROUP, namespace: name });
  await admin.makeApiClient(CoreV1Api).deleteNamespace({ name });
}

/** Creates a namespace of the bench's own (admin). */
export async function createNamespace(admin: KubeConfig, name: string): Promise<void> {
  await admin.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name } } });
}

/**
 * Plays Tekton: creates a TaskRun and writes a completed status naming `image` as IMAGE_URL /
 * IMAGE_DIGEST, with completionTime = now. Returns the completion time (ms since the epoch).
 */
export async function completeTaskRun(
  admin: KubeConfig,
  namespace: string,
  name: string,
  image: { ref: string; digest: string },
  /** more images, as the `IMAGES` result (Chains' type hint: `ref@digest`, comma-separated) */
  more: readonly { ref: string; digest: string }[] = [],
): Promise<number> {
  const api = customObjects(admin);
  await api.createNamespacedCustomObject({
    ...GROUP,
    namespace,
    body: {
      apiVersion: 'tekton.dev/v1',
      kind: 'TaskRun',
      metadata: { name, namespace },
      spec: { taskRef: { name: 'buildah' }, serviceAccountName: 'default' },
    },
  });
  const completed = Date.now();
  const at = new Date(completed).toISOString().replace(/\.\d+Z$/, 'Z');
  await api.patchNamespacedCustomObjectStatus(
    {
      ...GROUP,
      namespace,
      name,
      body: {
        status: {
          conditions: [{ type: 'Succeeded', status: 'True', reason: 'Succeeded', lastTransitionTime: at }],
          podName: `${name}-pod`,
          startTime: at,
          completionTime: at,
          results: [
            { name: 'IMAGE_URL', type: 'string', value: image.ref },
            { name: 'IMAGE_DIGEST', type: 'string', value: image.digest },
            ...(more.length
              ? [{ name: 'IMAGES', type: 'string', value: more.map((m) => `${m.ref}@${m.digest}`).join(',') }]
              : []),
          ],
          steps: [
            {
              name: 'build',
              container: 'step-build',
              imageID: `docker.io/library/busybox@sha256:${'1'.repeat(64)}`,
              terminated: { exitCode: 0, reason: 'Completed' },
            },
          ],
          taskSpec: { steps: [{ name: 'build', image: 'docker.io/library/busybox', script: 'echo build' }] },
        },
      },
    },
    MERGE,
  );
  return completed;
}

/** One merge patch of an annotation, the write the observer makes per run (for the patch limit). */
export async function patchAnnotation(
  kc: KubeConfig,
  namespace: string,
  name: string,
  annotations: Record<string, string>,
): Promise<void> {
  await customObjects(kc).patchNamespacedCustomObject(
    { ...GROUP, namespace, name, body: { metadata: { annotations } } },
    MERGE,
  );
}
