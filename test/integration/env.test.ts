import {
  AuthorizationV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  apiStatus,
  httpStatus,
  type Identity,
  kubeConfigFor,
  type LocalEnv,
  loadLocalEnv,
} from '../env/index.ts';

// The local environment really is a cluster and two registries: the things every other integration
// test relies on, checked against the running servers.
const runs = (identity: Parameters<typeof kubeConfigFor>[0]) =>
  kubeConfigFor(identity).makeApiClient(CustomObjectsApi);

const taskRun = (name: string) => ({
  apiVersion: 'tekton.dev/v1',
  kind: 'TaskRun',
  metadata: { name },
  spec: { taskRef: { name: 'buildah' } },
});

describe('local environment', () => {
  let env: LocalEnv;
  const suffix = `${Date.now()}-${process.pid}`;

  beforeAll(() => {
    env = loadLocalEnv();
  });

  it('apiserver answers /readyz to the admin and rejects an unknown token', async () => {
    expect(await httpStatus(`${env.apiserver}/readyz`, { Authorization: `Bearer ${env.tokens.admin}` })).toBe(
      200,
    );
    expect(await httpStatus(`${env.apiserver}/api/v1/namespaces`, { Authorization: 'Bearer nope' })).toBe(
      401,
    );
  });

  it('writes a kubeconfig per identity that acts as that identity', async () => {
    // May this identity list TaskRuns in tenant-b? Only admin, the observer and tenant-b's developer.
    const expected: Record<Identity, boolean> = {
      admin: true,
      observer: true,
      tenantA: false,
      tenantB: true,
      tenantABuild: false,
    };
    const actual = {} as Record<Identity, boolean>;
    for (const id of Object.keys(expected) as Identity[]) {
      const kc = new KubeConfig();
      kc.loadFromFile(env.kubeconfigs[id]);
      const review = await kc.makeApiClient(AuthorizationV1Api).createSelfSubjectAccessReview({
        body: {
          spec: {
            resourceAttributes: {
              group: 'tekton.dev',
              resource: 'taskruns',
              verb: 'list',
              namespace: 'tenant-b',
            },
          },
        },
      });
      actual[id] = review.status?.allowed === true;
    }
    expect(actual).toEqual(expected);
  });

  it('serves the Tekton TaskRun and PipelineRun CRDs with a status subresource', async () => {
    const res = await fetchJson(`${env.apiserver}/apis/tekton.dev/v1`, env.tokens.admin);
    const names = (res.resources as { name: string }[]).map((r) => r.name).sort();
    expect(names).toEqual(['pipelineruns', 'pipelineruns/status', 'taskruns', 'taskruns/status']);
  });

  it('lets the tenant-a developer create a TaskRun in tenant-a but not in tenant-b', async () => {
    const name = `env-tenant-${suffix}`;
    const created = await runs('tenantA').createNamespacedCustomObject({
      group: 'tekton.dev',
      version: 'v1',
      namespace: 'tenant-a',
      plural: 'taskruns',
      body: taskRun(name),
    });
    expect(created.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    const denied = await runs('tenantA')
      .createNamespacedCustomObject({
        group: 'tekton.dev',
        version: 'v1',
        namespace: 'tenant-b',
        plural: 'taskruns',
        body: taskRun(name),
      })
      .catch((err: unknown) => err);
    expect(apiStatus(denied)).toBe(403);
  });

  it('lets the observer list TaskRuns cluster-wide and patch one, but not create one', async () => {
    const name = `env-observer-${suffix}`;
    const params = { group: 'tekton.dev', version: 'v1', namespace: 'tenant-a', plural: 'taskruns' };
    await runs('admin').createNamespacedCustomObject({ ...params, body: taskRun(name) });

    const list = await runs('observer').listClusterCustomObject({
      group: 'tekton.dev',
      version: 'v1',
      plural: 'taskruns',
    });
    expect(list.items.map((r: { metadata: { name: string } }) => r.metadata.name)).toContain(name);

    const patched = await runs('observer').patchNamespacedCustomObject(
      { ...params, name, body: { metadata: { annotations: { 'chains.tekton.dev/signed': 'true' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(patched.metadata.annotations['chains.tekton.dev/signed']).toBe('true');

    const denied = await runs('observer')
      .createNamespacedCustomObject({ ...params, body: taskRun(`${name}-x`) })
      .catch((err: unknown) => err);
    expect(apiStatus(denied)).toBe(403);
  });

  it('has an anonymous registry answering /v2/', async () => {
    expect(await httpStatus(`http://${env.registry}/v2/`)).toBe(200);
  });

  it('has a token registry: 401 without a token, 200 with one from its token server', async () => {
    const challenge = await fetch(`http://${env.tokenRegistry.address}/v2/`);
    expect(challenge.status).toBe(401);
    const header = challenge.headers.get('www-authenticate') ?? '';
    const realm = /realm="([^"]+)"/.exec(header)?.[1];
    const service = /service="([^"]+)"/.exec(header)?.[1];
    expect(header).toMatch(/^Bearer /);
    expect(realm).toBeDefined();

    const url = `${realm}?service=${service}&scope=repository:env/check:pull`;
    const { username, password } = env.tokenRegistry;
    const wrong = await fetch(url, { headers: { Authorization: basic(username, `${password}x`) } });
    expect(wrong.status).toBe(401);
    const issued = await fetch(url, { headers: { Authorization: basic(username, password) } });
    expect(issued.status).toBe(200);
    const { token } = (await issued.json()) as { token: string };

    const ok = await fetch(`http://${env.tokenRegistry.address}/v2/`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(ok.status).toBe(200);
    const forged = `${token.slice(0, -4)}AAAA`;
    const bad = await fetch(`http://${env.tokenRegistry.address}/v2/`, {
      headers: { Authorization: `Bearer ${forged}` },
    });
    expect(bad.status).toBe(401);
  });
});

function basic(user: string, pass: string): string {
  return `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
}

/** GET JSON from the apiserver (self-signed TLS) with a bearer token. */
async function fetchJson(url: string, token: string): Promise<Record<string, unknown>> {
  const { get } = await import('node:https');
  return new Promise((resolve, reject) => {
    get(url, { headers: { Authorization: `Bearer ${token}` }, rejectUnauthorized: false }, (res) => {
      let body = '';
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () =>
        res.statusCode === 200 ? resolve(JSON.parse(body)) : reject(new Error(`${url}: ${res.statusCode}`)),
      );
    }).on('error', reject);
  });
}
