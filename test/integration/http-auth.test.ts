import { KubeConfig } from '@kubernetes/client-node';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizerFromKubeConfig, buildServer, KubeAuthorizer } from '../../src/http/index.ts';
import { SqliteIndex } from '../../src/index/index.ts';
import { createMetrics } from '../../src/observability/index.ts';
import { type LocalEnv, loadLocalEnv } from '../env/local-env.ts';
import { digestOf, newAttestation } from '../unit/index/attestation-fixtures.ts';

// The lookup API against the real apiserver: the authorizer runs as the observer's service account
// (deploy/ RBAC lets it create tokenreviews and subjectaccessreviews) and decides for the tenants'
// real tokens exactly as the apiserver's RBAC does. The server really listens; requests go over HTTP.
describe('lookup API with Kubernetes auth (real apiserver)', () => {
  let env: LocalEnv;
  let index: SqliteIndex;
  let app: FastifyInstance;
  let base: string;
  const ids = { a: '', b: '' };
  const shared = digestOf(`shared-${process.pid}`);

  const get = async (path: string, token?: string) => {
    const res = await fetch(`${base}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    env = loadLocalEnv();
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(env.kubeconfigs.observer);
    index = new SqliteIndex({ path: ':memory:' });
    ids.a = await index.addAttestation(
      newAttestation({ namespace: 'tenant-a', name: 'build-a', digests: [shared] }),
    );
    ids.b = await index.addAttestation(
      newAttestation({ namespace: 'tenant-b', name: 'build-b', digests: [shared] }),
    );
    await index.setRunState({
      uid: 'uid-tenant-a-build-a',
      run: { kind: 'TaskRun', namespace: 'tenant-a', name: 'build-a' },
      status: 'attested',
      attempts: 0,
      updatedAt: new Date(),
    });
    app = buildServer({
      index,
      publicKeys: () => [],
      metrics: createMetrics(),
      health: { checks: () => ({}) },
      authorizer: authorizerFromKubeConfig(kubeConfig),
    });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });

  afterAll(async () => {
    await app?.close();
    await index?.close();
  });

  const namespacesOf = (body: Record<string, unknown>) =>
    (body.items as { run: { namespace: string } }[]).map((i) => i.run.namespace).sort();

  it('the observer identity authenticates a tenant token and reviews its access', async () => {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(env.kubeconfigs.observer);
    const authorizer = new KubeAuthorizer({ kubeConfig });
    const caller = await authorizer.authenticate(env.tokens.tenantA);
    if (!caller) throw new Error('the apiserver did not authenticate the tenant-a token');
    expect(caller.user).toBe('tenant-a-dev');
    expect(caller.groups).toContain('system:authenticated');
    expect(await authorizer.canGetRuns(caller, 'tenant-a', 'TaskRun')).toBe(true);
    expect(await authorizer.canGetRuns(caller, 'tenant-a', 'PipelineRun')).toBe(true);
    expect(await authorizer.canGetRuns(caller, 'tenant-b', 'TaskRun')).toBe(false);
    expect(await authorizer.authenticate('made-up-token')).toBeUndefined();
  });

  it('tenant A reads its own run: states, attestations and where they are stored', async () => {
    const res = await get('/api/v1/runs/tenant-a/taskruns/build-a', env.tokens.tenantA);
    expect(res.status).toBe(200);
    expect((res.body.attestations as { id: string }[]).map((a) => a.id)).toEqual([ids.a]);
    expect((res.body.states as { status: string }[])[0].status).toBe('attested');
    expect((await get(`/api/v1/attestations/${ids.a}`, env.tokens.tenantA)).status).toBe(200);
    const envelope = await get(`/api/v1/attestations/${ids.a}/envelope`, env.tokens.tenantA);
    expect(envelope.body.payloadType).toBe('application/vnd.in-toto+json');
  });

  it('tenant A is refused tenant B’s run and sees none of B’s attestations by digest', async () => {
    const run = await get('/api/v1/runs/tenant-b/taskruns/build-b', env.tokens.tenantA);
    expect(run.status).toBe(403);
    expect((await get(`/api/v1/attestations/${ids.b}`, env.tokens.tenantA)).status).toBe(404);
    expect((await get(`/api/v1/attestations/${ids.b}/envelope`, env.tokens.tenantA)).status).toBe(404);
    const byDigest = await get(`/api/v1/attestations?digest=${shared}`, env.tokens.tenantA);
    expect(byDigest.status).toBe(200);
    expect(namespacesOf(byDigest.body)).toEqual(['tenant-a']);
    const asB = await get(`/api/v1/attestations?digest=${shared}`, env.tokens.tenantB);
    expect(namespacesOf(asB.body)).toEqual(['tenant-b']);
  });

  it('a made-up token gets 401 with WWW-Authenticate, and no token gets 401', async () => {
    const res = await get(`/api/v1/attestations?digest=${shared}`, 'made-up-token');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await get('/api/v1/runs/tenant-a/taskruns/build-a')).status).toBe(401);
  });

  it('the cluster admin sees both tenants', async () => {
    const byDigest = await get(`/api/v1/attestations?digest=${shared}`, env.tokens.admin);
    expect(namespacesOf(byDigest.body)).toEqual(['tenant-a', 'tenant-b']);
    expect((await get('/api/v1/runs/tenant-b/taskruns/build-b', env.tokens.admin)).status).toBe(200);
    expect((await get(`/api/v1/attestations/${ids.b}`, env.tokens.admin)).status).toBe(200);
  });
});
