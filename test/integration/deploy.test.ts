import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ApiextensionsV1Api,
  AuthorizationV1Api,
  CoreV1Api,
  type KubeConfig,
  KubernetesObjectApi,
  type V1ResourceAttributes,
} from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
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

// The deploy/ base and its overlays against a real apiserver: every object is accepted (the
// Prometheus Operator's CRDs installed from minimal definitions first), the parts agree with each
// other (ports, selectors), and the observer's identity ends up with exactly the least privilege the
// base promises (checked by SubjectAccessReview and by real requests made with the observer's own token).
const DRY_RUN_KINDS = new Set(['Deployment', 'Service', 'PersistentVolumeClaim']);
const OVERLAYS = ['overlays/konflux'];
/** Objects (`Kind/namespace/name`) an overlay adds to the base's or deletes from them. */
const OVERLAY_ADDS: Record<string, { adds?: string[]; deletes?: string[] }> = {
  'overlays/konflux': {
    deletes: ['Secret/provenance-observer/public-key'],
    adds: [
      'Secret/openshift-pipelines/public-key',
      'Role/openshift-pipelines/provenance-observer-public-key',
      'RoleBinding/openshift-pipelines/provenance-observer-public-key',
      'Role/openshift-pipelines/provenance-observer-public-key-viewer',
      'RoleBinding/openshift-pipelines/provenance-observer-public-key-viewer',
      'NetworkPolicy/provenance-observer/provenance-observer-konflux',
      'ServiceMonitor/provenance-observer/provenance-observer',
      'PrometheusRule/provenance-observer/provenance-observer',
    ],
  },
};
const CRDS = join(import.meta.dirname, '../fixtures/monitoring/crds.yaml');
const observer = IDENTITIES.observer;

describe('deploy/ kustomize base', () => {
  let env: LocalEnv;
  let base: ManifestObject[];

  let monitored: ManifestObject[];

  beforeAll(async () => {
    env = loadLocalEnv();
    base = loadKustomizeBase();
    monitored = loadKustomizeBase(join(DEPLOY_DIR, 'overlays/monitoring'));
  });

  it('lists the numbered files in apply order', () => {
    const files = [...new Set(base.map((o) => o.source))];
    expect(files).toEqual([...files].sort());
    expect(files[0]).toBe('base/00-namespace.yaml');
    expect(base.map((o) => o.kind)).toEqual(expect.arrayContaining(['Deployment', 'NetworkPolicy']));
  });

  it("applies without the Prometheus Operator's CRDs; the monitoring Component adds ServiceMonitor and PrometheusRule", async () => {
    const admin = kubeConfigFor('admin', env);
    await removeCrds(admin); // a cluster without the operator
    expect(base.filter((o) => o.apiVersion.startsWith('monitoring.coreos.com/'))).toEqual([]);
    await applyAll(admin, base, (o) => DRY_RUN_KINDS.has(o.kind));
    const added = monitored.filter(
      (o) => !base.some((b) => b.kind === o.kind && b.metadata.name === o.metadata.name),
    );
    expect(added.map((o) => `${o.kind}/${o.source.replace(/^(\.\.\/)+/, '')}`)).toEqual([
      'ServiceMonitor/components/monitoring/servicemonitor.yaml',
      'PrometheusRule/components/monitoring/prometheusrule.yaml',
    ]);
    // without the CRDs the apiserver refuses them: the reason they are not in the base
    await expect(applyObject(admin, toApplyBody(added[0]!), { dryRun: true })).rejects.toThrow();
    await installCrds(admin);
    await applyAll(admin, monitored, (o) => DRY_RUN_KINDS.has(o.kind));
  });

  it('puts the recommended labels on every object of the base, each overlay and the Component', () => {
    const version = JSON.parse(readFileSync(join(DEPLOY_DIR, '../package.json'), 'utf8')).version;
    const recommended = {
      'app.kubernetes.io/name': 'provenance-observer',
      'app.kubernetes.io/instance': 'provenance-observer',
      'app.kubernetes.io/part-of': 'provenance-observer',
      'app.kubernetes.io/version': version,
      'app.kubernetes.io/managed-by': 'kustomize',
    };
    for (const dir of ['.', 'overlays/monitoring', ...OVERLAYS, 'overlays/ha'])
      for (const o of loadKustomizeBase(join(DEPLOY_DIR, dir)))
        expect(o.metadata.labels, `${dir}: ${o.kind} ${o.metadata.name}`).toMatchObject(recommended);
    const deployment = find(base, 'Deployment') as unknown as DeploymentShape;
    expect(deployment.spec.template.metadata.labels).toMatchObject(recommended);
    // selectors are immutable: they keep the one label they always had
    expect(deployment.spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'provenance-observer' });
  });

  it('pins the image by digest through kustomization images:', () => {
    const deployment = find(base, 'Deployment') as unknown as DeploymentShape;
    expect(deployment.spec.template.spec.containers[0]?.image).toMatch(
      /^ghcr\.io\/provenance-observer\/provenance-observer@sha256:[0-9a-f]{64}$/,
    );
  });

  it('is accepted object by object by the apiserver (server-side apply; dry run for workloads)', async () => {
    await applyAll(kubeConfigFor('admin', env), base, (o) => DRY_RUN_KINDS.has(o.kind));
  });

  it('upgrades in place: re-applying changes nothing stored, a new image changes only the image', async () => {
    const admin = kubeConfigFor('admin', env);
    const stored = base.filter((o) => !DRY_RUN_KINDS.has(o.kind));
    const before = await Promise.all(stored.map((o) => applyObject(admin, toApplyBody(o))));
    const after = await Promise.all(stored.map((o) => applyObject(admin, toApplyBody(o))));
    expect(after.map((o) => o.metadata?.resourceVersion)).toEqual(
      before.map((o) => o.metadata?.resourceVersion),
    );
    const deployment = find(base, 'Deployment') as unknown as DeploymentShape;
    const container = deployment.spec.template.spec.containers[0]!;
    const image = 'registry.example/provenance-observer/provenance-observer@sha256:'.padEnd(136, '0');
    const upgraded = {
      ...deployment,
      spec: {
        ...deployment.spec,
        template: {
          ...deployment.spec.template,
          spec: { ...deployment.spec.template.spec, containers: [{ ...container, image }] },
        },
      },
    } as unknown as ManifestObject;
    const applied = (await applyObject(admin, toApplyBody(upgraded), {
      dryRun: true,
    })) as unknown as DeploymentShape;
    const got = applied.spec.template.spec.containers[0]!;
    expect(got.image).toBe(image);
    expect(got.securityContext).toMatchObject(container.securityContext);
    expect(got.args).toEqual(container.args);
  });

  it('uninstalls: every stored object is deletable, in reverse apply order (dry run)', async () => {
    const client = KubernetesObjectApi.makeApiClient(kubeConfigFor('admin', env));
    const stored = base.filter((o) => !DRY_RUN_KINDS.has(o.kind)).reverse();
    for (const obj of stored) {
      const status = await client.delete(toApplyBody(obj), undefined, 'All');
      expect(status, `${obj.kind} ${obj.metadata.name}`).toBeDefined();
    }
    // nothing was deleted: the objects are still there
    for (const obj of stored)
      expect((await client.read(toApplyBody(obj) as never)).metadata?.name).toBe(obj.metadata.name);
  });

  it.each(OVERLAYS)(
    'overlay %s is accepted by the apiserver (dry run: the base stays in force)',
    async (dir) => {
      const objects = loadKustomizeBase(join(DEPLOY_DIR, dir));
      const id = (o: ManifestObject) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
      const added = OVERLAY_ADDS[dir] ?? {};
      expect(objects.map(id)).toEqual([
        ...base.map(id).filter((o) => !(added.deletes ?? []).includes(o)),
        ...(added.adds ?? []),
      ]);
      const admin = kubeConfigFor('admin', env);
      for (const ns of new Set(objects.map((o) => o.metadata.namespace).filter((n) => n !== undefined)))
        if (ns !== 'provenance-observer')
          await applyObject(admin, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
      await applyAll(admin, objects, () => true);
    },
  );

  it('configures the Konflux overlay as Konflux configures Chains, and the config parses', () => {
    const data = configData(loadKustomizeBase(join(DEPLOY_DIR, 'overlays/konflux')));
    expect(data).toMatchObject({
      'artifacts.pipelinerun.format': 'in-toto',
      'artifacts.pipelinerun.storage': 'oci',
      'artifacts.pipelinerun.enable-deep-inspection': 'true',
      'artifacts.taskrun.storage': '',
      'artifacts.oci.storage': 'oci',
    });
    expect(data['attestation.subject-policy']).toBeTruthy();
    const config = parseConfig(data, { namespace: 'provenance-observer' });
    expect(config.pipelinerun).toMatchObject({ format: 'slsa/v0.2', storage: ['oci'], deepInspection: true });
    expect(config.taskrun.storage).toEqual([]);
    expect(parseConfig(configData(base), { namespace: 'provenance-observer' }).indexPath).toBe(
      '/var/lib/provenance-observer/index.db',
    );
  });

  it('publishes the public key where Konflux reads it: k8s://openshift-pipelines/public-key, readable by everyone', async () => {
    const objects = loadKustomizeBase(join(DEPLOY_DIR, 'overlays/konflux'));
    const config = parseConfig(configData(objects), { namespace: 'provenance-observer' });
    expect(config.publicKeySecret).toEqual({ name: 'public-key', namespace: 'openshift-pipelines' });
    const admin = kubeConfigFor('admin', env);
    await applyObject(admin, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'openshift-pipelines' },
    });
    for (const obj of objects.filter((o) => o.metadata.namespace === 'openshift-pipelines'))
      await applyObject(admin, toApplyBody(obj));
    const secret = { group: '', resource: 'secrets', namespace: 'openshift-pipelines' };
    expect(await subjectCan(env, { ...secret, verb: 'patch', name: 'public-key' })).toBe(true);
    expect(await subjectCan(env, { ...secret, verb: 'get', name: 'other' })).toBe(false);
    const anyone = { user: 'someone', groups: ['system:authenticated'] };
    expect(await subjectCan(env, { ...secret, verb: 'get', name: 'public-key' }, anyone)).toBe(true);
    expect(await subjectCan(env, { ...secret, verb: 'patch', name: 'public-key' }, anyone)).toBe(false);
  });

  it('lets every authenticated user read the base public-key Secret, and nothing else', async () => {
    const anyone = { user: 'someone', groups: ['system:authenticated'] };
    const secret = { group: '', resource: 'secrets', namespace: 'provenance-observer' };
    expect(await subjectCan(env, { ...secret, verb: 'get', name: 'public-key' }, anyone)).toBe(true);
    expect(await subjectCan(env, { ...secret, verb: 'get', name: 'signing-secrets' }, anyone)).toBe(false);
    expect(await subjectCan(env, { ...secret, verb: 'patch', name: 'public-key' }, anyone)).toBe(false);
    expect(await subjectCan(env, { ...secret, verb: 'patch', name: 'public-key' })).toBe(true);
  });

  it('admits traffic to the Service ports only, and lets the observer reach DNS, the apiserver and registries', () => {
    const policy = find(base, 'NetworkPolicy') as unknown as NetworkPolicyShape;
    const service = find(base, 'Service') as unknown as ServiceShape;
    const deployment = find(base, 'Deployment') as unknown as DeploymentShape;
    expect(deployment.spec.template.metadata.labels).toMatchObject(policy.spec.podSelector.matchLabels);
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    const ingressPorts = policy.spec.ingress.flatMap((r) => r.ports.map((p) => p.port));
    expect(ingressPorts.sort()).toEqual(service.spec.ports.map((p) => p.targetPort).sort());
    const egress = policy.spec.egress.flatMap((r) => r.ports.map((p) => `${p.protocol}/${p.port}`));
    expect(egress).toEqual(expect.arrayContaining(['UDP/53', 'TCP/53', 'TCP/443', 'TCP/6443']));
  });

  it('admits the api port only from namespaces the platform labels, and http only from Prometheus in monitoring', () => {
    const policy = find(base, 'NetworkPolicy') as unknown as NetworkPolicyShape;
    // one rule per port, each with sources: a rule without `from` would admit every source
    expect(policy.spec.ingress.map((r) => ({ ports: r.ports.map((p) => p.port), from: r.from }))).toEqual([
      {
        ports: ['api'],
        from: [{ namespaceSelector: { matchLabels: { 'provenance-observer.dev/api-client': 'true' } } }],
      },
      {
        ports: ['http'],
        from: [
          {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } },
            podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } },
          },
        ],
      },
    ]);
    // the kustomize overlays keep the base's policy as it is (Konflux adds one of its own)
    for (const dir of ['overlays/monitoring', ...OVERLAYS, 'overlays/ha']) {
      const objects = loadKustomizeBase(join(DEPLOY_DIR, dir));
      const same = objects.find(
        (o) => o.kind === 'NetworkPolicy' && o.metadata.name === policy.metadata.name,
      );
      expect((same as unknown as NetworkPolicyShape | undefined)?.spec, dir).toEqual(policy.spec);
    }
  });

  it("admits Konflux tenants to the api port and OpenShift's monitoring to http, and changes no egress", () => {
    const objects = loadKustomizeBase(join(DEPLOY_DIR, 'overlays/konflux'));
    const policy = objects.find(
      (o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'provenance-observer-konflux',
    ) as unknown as NetworkPolicyShape;
    const deployment = find(objects, 'Deployment') as unknown as DeploymentShape;
    expect(deployment.spec.template.metadata.labels).toMatchObject(policy.spec.podSelector.matchLabels);
    expect(policy.spec.policyTypes).toEqual(['Ingress']);
    expect(policy.spec.egress).toBeUndefined();
    expect(policy.spec.ingress.map((r) => ({ ports: r.ports.map((p) => p.port), from: r.from }))).toEqual([
      { ports: ['api'], from: [{ namespaceSelector: { matchLabels: { 'konflux-ci.dev/type': 'tenant' } } }] },
      {
        ports: ['http'],
        from: [{ namespaceSelector: { matchLabels: { 'network.openshift.io/policy-group': 'monitoring' } } }],
      },
    ]);
    // the same label selects the namespaces whose subjects the overlay's policy allows
    expect(configData(objects)['attestation.subject-policy']).toContain('konflux-ci.dev/type: tenant');
  });

  it('scrapes a port the Service has, on a Service the ServiceMonitor selects', () => {
    const monitor = find(monitored, 'ServiceMonitor') as unknown as ServiceMonitorShape;
    const service = find(base, 'Service') as unknown as ServiceShape;
    expect(service.metadata.labels).toMatchObject(monitor.spec.selector.matchLabels);
    expect(monitor.spec.namespaceSelector.matchNames).toEqual([service.metadata.namespace]);
    for (const endpoint of monitor.spec.endpoints) {
      expect(service.spec.ports.map((p) => p.name)).toContain(endpoint.port);
      expect(endpoint.path).toBe('/metrics');
    }
  });

  it('has a PodDisruptionBudget for every Deployment with more than one replica', () => {
    for (const objects of [base, ...OVERLAYS.map((d) => loadKustomizeBase(join(DEPLOY_DIR, d)))]) {
      const budgets = objects.filter((o) => o.kind === 'PodDisruptionBudget') as unknown as PdbShape[];
      for (const d of objects.filter((o) => o.kind === 'Deployment') as unknown as DeploymentShape[]) {
        const covered = budgets.some((b) =>
          matches(b.spec.selector.matchLabels, d.spec.template.metadata.labels),
        );
        const what = `Deployment ${d.metadata.name} (replicas ${d.spec.replicas})`;
        if (d.spec.replicas > 1) expect(covered, what).toBe(true);
        // one replica on a ReadWriteOnce index: a budget would only block node drains
        else expect(d.spec.strategy.type, what).toBe('Recreate');
      }
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
    // a missing key or database at start leaves the pod NotReady, not restarted by the startup probe
    expect(container.startupProbe.httpGet).toMatchObject({ path: '/livez', port: 'http' });
    // Events' reportingInstance: the pod's own name
    expect(container.env).toContainEqual({
      name: 'POD_NAME',
      valueFrom: { fieldRef: { fieldPath: 'metadata.name' } },
    });
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
    const configMap = { data: configData(base) };
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

/** Deletes the monitoring CRDs (if there) and waits until the apiserver no longer serves them. */
async function removeCrds(admin: KubeConfig): Promise<void> {
  const crds = parseAllDocuments(readFileSync(CRDS, 'utf8')).map((d) => d.toJS());
  const api = admin.makeApiClient(ApiextensionsV1Api);
  for (const crd of crds)
    await api.deleteCustomResourceDefinition({ name: crd.metadata.name }).catch(() => undefined);
  const deadline = Date.now() + 30_000;
  for (const crd of crds) {
    while (
      await api.readCustomResourceDefinition({ name: crd.metadata.name }).then(
        () => true,
        () => false,
      )
    ) {
      if (Date.now() > deadline) throw new Error(`CRD ${crd.metadata.name} not gone after 30 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Installs the monitoring CRDs and waits until the apiserver serves them. */
async function installCrds(admin: KubeConfig): Promise<void> {
  const crds = parseAllDocuments(readFileSync(CRDS, 'utf8')).map((d) => d.toJS());
  for (const crd of crds) await applyObject(admin, crd);
  const api = admin.makeApiClient(ApiextensionsV1Api);
  const deadline = Date.now() + 30_000;
  for (const crd of crds) {
    for (;;) {
      const got = await api.readCustomResourceDefinition({ name: crd.metadata.name });
      if (got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (Date.now() > deadline) throw new Error(`CRD ${crd.metadata.name} not Established after 30 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Server-side applies each object (dry run where `dryRun` says), checking the apiserver kept name and namespace. */
async function applyAll(
  admin: KubeConfig,
  objects: ManifestObject[],
  dryRun: (o: ManifestObject) => boolean,
): Promise<void> {
  for (const obj of objects) {
    const applied = await applyObject(admin, toApplyBody(obj), { dryRun: dryRun(obj) });
    expect(applied.metadata?.name, `${obj.source} ${obj.kind}`).toBe(obj.metadata.name);
    if (obj.metadata.namespace) expect(applied.metadata?.namespace).toBe(obj.metadata.namespace);
  }
}

function find(objects: ManifestObject[], kind: string): ManifestObject {
  const found = objects.filter((o) => o.kind === kind);
  if (found.length !== 1) throw new Error(`expected one ${kind}, found ${found.length}`);
  return found[0]!;
}

const PUBLISHED = ['decision-log-checkpoint', 'subject-policy-statement'];

function configData(objects: ManifestObject[]): Record<string, string> {
  // the observer's configuration, not the ConfigMaps it publishes into (checkpoint, policy statement)
  const configs = objects.filter((o) => o.kind !== 'ConfigMap' || !PUBLISHED.includes(o.metadata.name));
  return (find(configs, 'ConfigMap') as unknown as { data: Record<string, string> }).data;
}

function matches(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** Asks the apiserver (as admin) whether the observer's identity may do `attrs`. */
async function subjectCan(
  env: LocalEnv,
  attrs: V1ResourceAttributes,
  who: { user: string; groups: string[] } = observer,
): Promise<boolean> {
  const api = kubeConfigFor('admin', env).makeApiClient(AuthorizationV1Api);
  const review = await api.createSubjectAccessReview({
    body: {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: {
        user: who.user,
        groups: [...who.groups, 'system:authenticated'],
        resourceAttributes: attrs,
      },
    },
  });
  return review.status?.allowed === true;
}

interface DeploymentShape {
  metadata: { name: string };
  spec: {
    replicas: number;
    strategy: { type: string };
    selector: { matchLabels: Record<string, string> };
    template: {
      metadata: { labels: Record<string, string> };
      spec: {
        serviceAccountName: string;
        securityContext: { runAsNonRoot: boolean; seccompProfile: { type: string } };
        containers: {
          image: string;
          args: string[];
          securityContext: Record<string, unknown>;
          livenessProbe: { httpGet: Record<string, unknown> };
          readinessProbe: { httpGet: Record<string, unknown> };
          startupProbe: { httpGet: Record<string, unknown> };
          env: { name: string; valueFrom?: unknown }[];
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

interface ServiceShape {
  metadata: { namespace: string; labels: Record<string, string> };
  spec: { ports: { name: string; targetPort: string }[] };
}

interface NetworkPolicyShape {
  metadata: { name: string };
  spec: {
    podSelector: { matchLabels: Record<string, string> };
    policyTypes: string[];
    ingress: { ports: { port: string | number }[]; from?: unknown[] }[];
    egress: { ports: { port: string | number; protocol: string }[] }[];
  };
}

interface ServiceMonitorShape {
  spec: {
    selector: { matchLabels: Record<string, string> };
    namespaceSelector: { matchNames: string[] };
    endpoints: { port: string; path: string }[];
  };
}

interface PdbShape {
  spec: { selector: { matchLabels: Record<string, string> } };
}
