import { setTimeout as sleep } from 'node:timers/promises';
import { ApiextensionsV1Api, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { applyObject } from './kube.ts';
import { loadKustomizeBase, toApplyBody } from './manifests.ts';

export const OBSERVER_NAMESPACE = 'provenance-observer';
export const TENANT_NAMESPACES = ['tenant-a', 'tenant-b'];

/** Kinds of the deploy/ base that mean something without a kubelet; the rest is only dry-run in tests. */
const APPLIED_KINDS = new Set([
  'Namespace',
  'ServiceAccount',
  'ClusterRole',
  'ClusterRoleBinding',
  'Role',
  'RoleBinding',
  'ConfigMap',
  // the empty public-key Secret the observer publishes into (deploy/base/25-public-key.yaml)
  'Secret',
]);

/**
 * Makes the bare apiserver look like a cluster with Tekton and the observer installed: Tekton's run
 * CRDs, the namespaces, the deploy/ base's RBAC (the same files, so the observer identity has exactly
 * what a real install gives it) and the tenants' RBAC. Idempotent (server-side apply).
 */
export async function setupCluster(admin: KubeConfig): Promise<void> {
  await installTektonCrds(admin);
  for (const obj of loadKustomizeBase().filter((o) => APPLIED_KINDS.has(o.kind))) {
    await applyObject(admin, toApplyBody(obj));
  }
  for (const obj of tenantObjects()) await applyObject(admin, obj);
}

/** TaskRun and PipelineRun, tekton.dev/v1, namespaced, status subresource, schema left open. */
export async function installTektonCrds(admin: KubeConfig): Promise<void> {
  for (const [kind, plural] of [
    ['TaskRun', 'taskruns'],
    ['PipelineRun', 'pipelineruns'],
  ] as const) {
    await applyObject(admin, crd(kind, plural));
  }
  await waitEstablished(admin, ['taskruns.tekton.dev', 'pipelineruns.tekton.dev']);
}

function crd(kind: string, plural: string): KubernetesObject {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.tekton.dev` },
    spec: {
      group: 'tekton.dev',
      scope: 'Namespaced',
      names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List`, categories: ['tekton'] },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          subresources: { status: {} },
          // client-node serialises by its model, so the field is named as the model names it
          // (x_kubernetes_preserve_unknown_fields): a raw 'x-kubernetes-preserve-unknown-fields' key
          // is silently dropped, and the apiserver then prunes spec and status of every run.
          schema: { openAPIV3Schema: { type: 'object', x_kubernetes_preserve_unknown_fields: true } },
        },
      ],
    },
  } as KubernetesObject;
}

async function waitEstablished(admin: KubeConfig, names: string[], timeoutMs = 30_000): Promise<void> {
  const api = admin.makeApiClient(ApiextensionsV1Api);
  const deadline = Date.now() + timeoutMs;
  for (const name of names) {
    for (;;) {
      const crd = await api.readCustomResourceDefinition({ name });
      if (crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (Date.now() > deadline) throw new Error(`CRD ${name} not established after ${timeoutMs / 1000} s`);
      await sleep(200); // poll interval of this deadline-bounded wait for Established
    }
  }
}

const RUNS = ['taskruns', 'pipelineruns'];

/** Tenant developers: everything on runs in their own namespace. tenant-a's build SA: create/get/patch. */
export function tenantObjects(): KubernetesObject[] {
  const objs: KubernetesObject[] = TENANT_NAMESPACES.map((ns) => ({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: ns },
  }));
  for (const ns of TENANT_NAMESPACES) {
    const resources = [...RUNS, ...RUNS.map((r) => `${r}/status`)];
    objs.push(role(ns, 'tenant-dev', resources, ['*']), binding(ns, 'tenant-dev', 'User', `${ns}-dev`));
  }
  objs.push(
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'pipeline', namespace: 'tenant-a' } },
    role('tenant-a', 'pipeline', RUNS, ['create', 'get', 'patch']),
    binding('tenant-a', 'pipeline', 'ServiceAccount', 'pipeline'),
  );
  return objs;
}

function role(namespace: string, name: string, resources: string[], verbs: string[]): KubernetesObject {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name, namespace },
    rules: [{ apiGroups: ['tekton.dev'], resources, verbs }],
  } as KubernetesObject;
}

function binding(
  namespace: string,
  name: string,
  kind: 'User' | 'ServiceAccount',
  subject: string,
): KubernetesObject {
  const s =
    kind === 'User'
      ? { kind, name: subject, apiGroup: 'rbac.authorization.k8s.io' }
      : { kind, name: subject, namespace };
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name, namespace },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
    subjects: [s],
  } as KubernetesObject;
}
