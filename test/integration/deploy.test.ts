import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuthorizationV1Api, CoreV1Api, type V1ResourceAttributes } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfig } from '../../src/config/index.ts';
import {
  apiStatus,
  applyObject,
  DEPLOY_DIR,
  IDENTITIES,
  kubeConfigFor,
  type LocalEnv,
  loadKustomizeBase,
  loadLocalEnv,
  type ManifestObject,
  toApplyBody,
} from '../env/index.ts';

// The deploy/ base against a real apiserver: every object is accepted, and the observer's identity
// ends up with exactly the least privilege the base promises (checked by SubjectAccessReview and by
// real requests made with the observer's own token).
const DRY_RUN_KINDS = new Set(['Deployment', 'Service', 'PersistentVolumeClaim']);
const observer = IDENTITIES.observer;

describe('deploy/ kustomize base', () => {
  let env: LocalEnv;
  let base: ManifestObject[];

  beforeAll(() => {
    env = loadLocalEnv();
    base = loadKustomizeBase();
  });

  it('lists the numbered files in apply order', () => {
    const files = [...new Set(base.map((o) => o.source))];
    expect(files).toEqual([...files].sort());
    expect(files[0]).toBe('00-namespace.yaml');
    expect(base.map((o) => o.kind)).toContain('Deployment');
  });

  it('is accepted object by object by the apiserver (server-side apply; dry run for workloads)', async () => {
    const admin = kubeConfigFor('admin', env);
    for (const obj of base) {
      const dryRun = DRY_RUN_KINDS.has(obj.kind);
      const applied = await applyObject(admin, toApplyBody(obj), { dryRun });
      expect(applied.metadata?.name, `${obj.source} ${obj.kind}`).toBe(obj.metadata.name);
      if (obj.metadata.namespace) expect(applied.metadata?.namespace).toBe(obj.metadata.namespace);
    }
  });

  it('keeps the pod locked down', () => {
    const deployment = base.find((o) => o.kind === 'Deployment') as unknown as DeploymentShape;
    const pod = deployment.spec.template.spec;
    const container = pod.containers[0];
    expect(pod.serviceAccountName).toBe('provenance-observer');
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.securityContext.seccompProfile.type).toBe('RuntimeDefault');
    expect(container.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    expect(container.args).toEqual(['run', '--config', '/etc/provenance-observer/config']);
    expect(container.livenessProbe.httpGet).toMatchObject({ path: '/livez', port: 'http' });
    expect(container.readinessProbe.httpGet).toMatchObject({ path: '/readyz', port: 'http' });
  });

  it('serves the API over TLS on its own port with the mounted certificate; probes stay on http', () => {
    const deployment = base.find((o) => o.kind === 'Deployment') as unknown as ApiDeploymentShape;
    const pod = deployment.spec.template.spec;
    const container = pod.containers[0]!;
    expect(container.ports.map((p) => [p.name, p.containerPort])).toEqual([
      ['api', 8443],
      ['http', 8080],
    ]);
    const mount = container.volumeMounts.find((m) => m.name === 'api-tls');
    expect(pod.volumes.find((v) => v.name === 'api-tls')?.secret?.secretName).toBe('provenance-observer-tls');
    const configMap = base.find((o) => o.kind === 'ConfigMap') as unknown as { data: Record<string, string> };
    const config = parseConfig(configMap.data);
    expect(config.api.port).toBe(8443);
    expect(config.api.tlsCertFile).toBe(`${mount?.mountPath}/tls.crt`);
    expect(config.api.tlsKeyFile).toBe(`${mount?.mountPath}/tls.key`);
    expect(config.api.audiences).toEqual(['provenance-observer']);
    const service = base.find((o) => o.kind === 'Service') as unknown as {
      spec: { ports: { name: string; port: number; targetPort: string }[] };
    };
    expect(service.spec.ports.map((p) => [p.name, p.port, p.targetPort])).toEqual([
      ['api', 8443, 'api'],
      ['http', 8080, 'http'],
    ]);
  });

  it('does not bind the optional registry-credentials ClusterRole', () => {
    const bound = base
      .filter((o) => o.kind.endsWith('Binding'))
      .map((o) => (o as unknown as BindingShape).roleRef.name);
    expect(bound).not.toContain('provenance-observer-registry-credentials');
    expect(base.map((o) => o.metadata.name)).toContain('provenance-observer-registry-credentials');
  });

  it('gives the observer get on signing-secrets only, and nothing on other Secrets (SubjectAccessReview)', async () => {
    const may = (attrs: V1ResourceAttributes) => subjectCan(env, attrs);
    const secrets = { group: '', resource: 'secrets' };
    expect(
      await may({ ...secrets, verb: 'get', namespace: 'provenance-observer', name: 'signing-secrets' }),
    ).toBe(true);
    expect(await may({ ...secrets, verb: 'get', namespace: 'provenance-observer', name: 'other' })).toBe(
      false,
    );
    expect(await may({ ...secrets, verb: 'list', namespace: 'provenance-observer' })).toBe(false);
    expect(await may({ ...secrets, verb: 'list' })).toBe(false);
    for (const ns of env.tenantNamespaces) {
      expect(await may({ ...secrets, verb: 'get', namespace: ns, name: 'signing-secrets' })).toBe(false);
      expect(await may({ group: '', resource: 'serviceaccounts', verb: 'get', namespace: ns })).toBe(false);
    }
    expect(await may({ group: 'tekton.dev', resource: 'taskruns', verb: 'watch' })).toBe(true);
    expect(
      await may({ group: 'tekton.dev', resource: 'taskruns', verb: 'delete', namespace: 'tenant-a' }),
    ).toBe(false);
  });

  it('lets the observer token read signing-secrets but no tenant Secret (real requests)', async () => {
    const core = kubeConfigFor('observer', env).makeApiClient(CoreV1Api);
    const status = (p: Promise<unknown>) =>
      p.then(
        () => 200,
        (err: unknown) => apiStatus(err),
      );
    // 404 (no Secret yet) proves the request was authorised as much as 200 does.
    const own = await status(
      core.readNamespacedSecret({ name: 'signing-secrets', namespace: 'provenance-observer' }),
    );
    expect([200, 404]).toContain(own);
    expect(await status(core.readNamespacedSecret({ name: 'signing-secrets', namespace: 'tenant-a' }))).toBe(
      403,
    );
    expect(await status(core.listSecretForAllNamespaces())).toBe(403);
  });

  it('documents an example binding that grants registry credentials in one tenant namespace only', async () => {
    const example = parse(
      readFileSync(join(DEPLOY_DIR, 'examples/tenant-registry-credentials.yaml'), 'utf8'),
    );
    expect(example.roleRef.name).toBe('provenance-observer-registry-credentials');
    const admin = kubeConfigFor('admin', env);
    const ns = `deploy-test-${Date.now()}`;
    await applyObject(admin, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    await applyObject(admin, { ...example, metadata: { ...example.metadata, namespace: ns } });
    const get = (namespace: string) => ({ group: '', resource: 'secrets', verb: 'get', namespace });
    expect(await subjectCan(env, get(ns))).toBe(true);
    expect(await subjectCan(env, get('tenant-b'))).toBe(false);
    await kubeConfigFor('admin', env).makeApiClient(CoreV1Api).deleteNamespace({ name: ns });
  });
});

/** Asks the apiserver (as admin) whether the observer's identity may do `attrs`. */
async function subjectCan(env: LocalEnv, attrs: V1ResourceAttributes): Promise<boolean> {
  const api = kubeConfigFor('admin', env).makeApiClient(AuthorizationV1Api);
  const review = await api.createSubjectAccessReview({
    body: {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: {
        user: observer.user,
        groups: [...observer.groups, 'system:authenticated'],
        resourceAttributes: attrs,
      },
    },
  });
  return review.status?.allowed === true;
}

interface DeploymentShape {
  spec: {
    template: {
      spec: {
        serviceAccountName: string;
        securityContext: { runAsNonRoot: boolean; seccompProfile: { type: string } };
        containers: {
          args: string[];
          securityContext: Record<string, unknown>;
          livenessProbe: { httpGet: Record<string, unknown> };
          readinessProbe: { httpGet: Record<string, unknown> };
        }[];
      };
    };
  };
}

interface ApiDeploymentShape {
  spec: {
    template: {
      spec: {
        containers: {
          ports: { name: string; containerPort: number }[];
          volumeMounts: { name: string; mountPath: string }[];
        }[];
        volumes: { name: string; secret?: { secretName: string } }[];
      };
    };
  };
}

interface BindingShape {
  roleRef: { name: string };
}
