import { CoreV1Api, type KubernetesObject } from '@kubernetes/client-node';
import { applyObject, kubeConfigFor } from '../env/index.ts';

/** The audience the observer's TokenReviews ask for by default (api.audiences). */
export const API_AUDIENCE = 'provenance-observer';

/** Who reads through the lookup API in tests: one service account per tenant, and an auditor. */
export const API_READERS = {
  tenantA: { namespace: 'tenant-a', name: 'api-reader' },
  tenantB: { namespace: 'tenant-b', name: 'api-reader' },
  /** may get runs in every namespace (a ClusterRoleBinding), as a cluster admin would */
  auditor: { namespace: 'provenance-observer', name: 'api-auditor' },
} as const;
export type ApiReader = keyof typeof API_READERS;

const RUN_RULES = [{ apiGroups: ['tekton.dev'], resources: ['taskruns', 'pipelineruns'], verbs: ['get'] }];

/**
 * Creates (idempotently, as the cluster admin) the service accounts of API_READERS with `get` on
 * runs: the tenants' in their own namespace (Role tenant-dev, which the test env gives each
 * tenant namespace), the auditor's everywhere.
 */
export async function ensureApiReaders(): Promise<void> {
  const admin = kubeConfigFor('admin');
  const objects: KubernetesObject[] = [];
  for (const { namespace, name } of Object.values(API_READERS))
    objects.push({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } });
  for (const { namespace, name } of [API_READERS.tenantA, API_READERS.tenantB])
    objects.push(binding('RoleBinding', name, namespace, 'Role', 'tenant-dev', { namespace, name }));
  objects.push(
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'api-auditor' },
      rules: RUN_RULES,
    } as KubernetesObject,
    binding(
      'ClusterRoleBinding',
      'api-auditor',
      undefined,
      'ClusterRole',
      'api-auditor',
      API_READERS.auditor,
    ),
  );
  for (const obj of objects) await applyObject(admin, obj);
}

/**
 * A bound service-account token from the apiserver's TokenRequest API (`kubectl create token`),
 * for `audiences` (default: ours). `audiences: []` asks for the apiserver's own audience, i.e. a
 * token minted without `--audience`.
 */
export async function apiToken(reader: ApiReader, audiences: string[] = [API_AUDIENCE]): Promise<string> {
  const { namespace, name } = API_READERS[reader];
  const core = kubeConfigFor('admin').makeApiClient(CoreV1Api);
  const answer = await core.createNamespacedServiceAccountToken({
    name,
    namespace,
    body: { spec: { audiences, expirationSeconds: 600 } },
  });
  const token = answer.status?.token;
  if (!token) throw new Error(`TokenRequest for ${namespace}/${name} answered no token`);
  return token;
}

function binding(
  kind: 'RoleBinding' | 'ClusterRoleBinding',
  name: string,
  namespace: string | undefined,
  roleKind: 'Role' | 'ClusterRole',
  role: string,
  sa: { namespace: string; name: string },
): KubernetesObject {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind,
    metadata: namespace ? { name, namespace } : { name },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: roleKind, name: role },
    subjects: [{ kind: 'ServiceAccount', name: sa.name, namespace: sa.namespace }],
  } as KubernetesObject;
}
