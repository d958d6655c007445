import { join } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.ts';
import {
  applyObject,
  DEPLOY_DIR,
  kubeConfigFor,
  type LocalEnv,
  loadKustomizeBase,
  loadLocalEnv,
  type ManifestObject,
  toApplyBody,
} from '../env/index.ts';

// deploy/overlays/ha: 3 replicas on a shared PostgreSQL index, checked object by object against
// the base and accepted by the real apiserver (dry run). The local apiserver is v1.20, which
// serves PodDisruptionBudget as policy/v1beta1 only (policy/v1 came in 1.21 and is what the
// overlay ships); the fields the overlay uses (minAvailable, selector) are the same in both, so
// the dry run sends the budget as v1beta1.
describe('deploy/overlays/ha', () => {
  let env: LocalEnv;
  let base: ManifestObject[];
  let ha: ManifestObject[];
  beforeAll(() => {
    env = loadLocalEnv();
    base = loadKustomizeBase();
    ha = loadKustomizeBase(join(DEPLOY_DIR, 'overlays/ha'));
  });

  const one = <T>(objects: ManifestObject[], kind: string, name?: string): T => {
    const found = objects.filter((o) => o.kind === kind && (!name || o.metadata.name === name));
    expect(found, `${kind} ${name ?? ''}`).toHaveLength(1);
    return found[0] as unknown as T;
  };

  it('is the base without the index PVC, plus a PodDisruptionBudget and egress to the database', () => {
    const names = (objects: ManifestObject[]) => objects.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(names(ha)).toEqual([
      ...names(base).filter((n) => n !== 'PersistentVolumeClaim/provenance-observer-index'),
      'PodDisruptionBudget/provenance-observer',
      'NetworkPolicy/provenance-observer-database',
    ]);
  });

  it('runs 3 replicas, rolled with a surge and never below 3, the budget keeping 2 through disruptions', () => {
    const deployment = one<Deployment>(ha, 'Deployment');
    expect(deployment.spec.replicas).toBe(3);
    expect(deployment.spec.strategy).toEqual({
      type: 'RollingUpdate',
      rollingUpdate: { maxUnavailable: 0, maxSurge: 1 },
    });
    const pdb = one<Pdb>(ha, 'PodDisruptionBudget');
    expect(pdb.apiVersion).toBe('policy/v1');
    expect(pdb.spec.minAvailable).toBe(2);
    expect(pdb.spec.minAvailable).toBeLessThan(deployment.spec.replicas);
    expect(deployment.spec.template.metadata.labels).toMatchObject(pdb.spec.selector.matchLabels);
    const db = one<Policy>(ha, 'NetworkPolicy', 'provenance-observer-database');
    expect(deployment.spec.template.metadata.labels).toMatchObject(db.spec.podSelector.matchLabels);
    // egress only: who may reach the replicas is the base's policy (api and http by source)
    expect(db.spec.policyTypes).toEqual(['Egress']);
    expect(db.spec.egress.flatMap((r) => r.ports.map((p) => `${p.protocol}/${p.port}`))).toEqual([
      'TCP/5432',
    ]);
  });

  it('reads the index from PostgreSQL with the password from a Secret, and has no volume for SQLite', () => {
    const deployment = one<Deployment>(ha, 'Deployment');
    const pod = deployment.spec.template.spec;
    const container = pod.containers[0]!;
    expect(pod.volumes.map((v) => v.name)).not.toContain('index');
    expect(container.volumeMounts.map((m) => m.name)).not.toContain('index');
    expect(container.env).toContainEqual({
      name: 'PGPASSWORD',
      valueFrom: { secretKeyRef: { name: 'provenance-observer-db', key: 'password' } },
    });
    // the observer's configuration (the decision log's checkpoint ConfigMap is beside it)
    const published = ['decision-log-checkpoint', 'subject-policy-statement'];
    const configs = ha.filter((o) => o.kind !== 'ConfigMap' || !published.includes(o.metadata.name));
    const data = one<{ data: Record<string, string> }>(configs, 'ConfigMap').data;
    const config = parseConfig(data, { namespace: 'provenance-observer' });
    expect(new URL(config.indexUrl ?? '').protocol).toBe('postgres:');
    expect(new URL(config.indexUrl ?? '').password).toBe('');
    expect(config.claimLeaseSeconds).toBe(30);
    // one cursor key for all replicas: a page cursor from one is accepted by another
    const cursor = container.volumeMounts.find((m) => m.name === 'cursor-key');
    expect(config.api.cursorKeyFile).toBe(`${cursor?.mountPath}/key`);
    expect(pod.volumes.find((v) => v.name === 'cursor-key')?.secret?.secretName).toBe(
      'provenance-observer-cursor-key',
    );
  });

  it('keeps the base pod as it is otherwise: every replica ready on /readyz (no leadership), locked down', () => {
    const before = one<Deployment>(base, 'Deployment').spec.template.spec.containers[0]!;
    const after = one<Deployment>(ha, 'Deployment').spec.template.spec.containers[0]!;
    expect(after.readinessProbe).toEqual(before.readinessProbe);
    expect(after.livenessProbe).toEqual(before.livenessProbe);
    expect(after.securityContext).toEqual(before.securityContext);
    expect(after.ports).toEqual(before.ports);
    expect(after.args).toEqual(before.args);
  });

  it('is accepted by the apiserver: what it adds or changes, dry run (the base: deploy.test.ts)', async () => {
    const admin = kubeConfigFor('admin', env);
    const same = (o: ManifestObject) =>
      base.some((b) => JSON.stringify(toApplyBody(b)) === JSON.stringify(toApplyBody(o)));
    const changed = ha.filter((o) => !same(o));
    expect(changed.map((o) => o.kind).sort()).toEqual([
      'ConfigMap',
      'Deployment',
      'NetworkPolicy',
      'PodDisruptionBudget',
    ]);
    for (const obj of changed) {
      const body = toApplyBody(obj) as KubernetesObject;
      if (obj.kind === 'PodDisruptionBudget') body.apiVersion = 'policy/v1beta1';
      const applied = await applyObject(admin, body, { dryRun: true });
      expect(applied.metadata?.name, `${obj.source} ${obj.kind}`).toBe(obj.metadata.name);
    }
  });
});

interface Container {
  args: string[];
  env: unknown[];
  ports: unknown[];
  securityContext: unknown;
  readinessProbe: unknown;
  livenessProbe: unknown;
  volumeMounts: { name: string; mountPath: string }[];
}

interface Deployment {
  spec: {
    replicas: number;
    strategy: unknown;
    template: {
      metadata: { labels: Record<string, string> };
      spec: { containers: Container[]; volumes: { name: string; secret?: { secretName: string } }[] };
    };
  };
}

interface Pdb {
  apiVersion: string;
  spec: { minAvailable: number; selector: { matchLabels: Record<string, string> } };
}

interface Policy {
  spec: {
    podSelector: { matchLabels: Record<string, string> };
    policyTypes: string[];
    egress: { ports: { port: number; protocol: string }[] }[];
  };
}
