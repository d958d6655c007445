import { X509Certificate } from 'node:crypto';
import { renameSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeAuthorizer } from '../../src/http/index.ts';
import { KubeConnection } from '../../src/kube/index.ts';
import { httpStatus, kubeAccessFor, type LocalEnv, loadLocalEnv } from '../env/index.ts';
import { apiGet } from '../helpers/api-client.ts';
import { apiToken, ensureApiReaders } from '../helpers/api-tokens.ts';
import { startTestObserver, type TestObserver } from '../helpers/observer.ts';
import { writeTestCert } from '../helpers/tls-cert.ts';
import { digestOf, newAttestation } from '../unit/index/attestation-fixtures.ts';

// The lookup API as `provenance-observer run` serves it (startObserver), against the real
// apiserver: TLS on its own port, probes and metrics on another, TokenReview with our audience for
// bound service-account tokens minted by the apiserver's TokenRequest API, RBAC decided by the
// apiserver. Index rows are inserted directly, so the test controls which tenant attested what.
describe('lookup API: TLS, audiences and cursors (real apiserver)', () => {
  let env: LocalEnv;
  let obs: TestObserver;
  const tokens = { a: '', b: '', auditor: '' };
  const ids = { a: '', b: '' };
  const shared = digestOf(`shared-${process.pid}`);

  beforeAll(async () => {
    env = loadLocalEnv();
    await ensureApiReaders();
    [tokens.a, tokens.b, tokens.auditor] = await Promise.all([
      apiToken('tenantA'),
      apiToken('tenantB'),
      apiToken('auditor'),
    ]);
    obs = await startTestObserver(env);
    const index = obs.observer.index;
    ids.a = await index.addAttestation(
      newAttestation({ namespace: 'tenant-a', name: 'build-a', digests: [shared] }),
    );
    ids.b = await index.addAttestation(
      newAttestation({ namespace: 'tenant-b', name: 'build-b', digests: [shared] }),
    );
  });

  afterAll(async () => {
    await obs?.stop();
  });

  const namespacesOf = (body: { items: { run: { namespace: string } }[] }) =>
    body.items.map((i) => i.run.namespace).sort();

  it('the observer identity authenticates a token made for its audience and reviews its access', async () => {
    const authorizer = new KubeAuthorizer({
      connection: new KubeConnection({ access: kubeAccessFor('observer', env) }),
    });
    const caller = await authorizer.authenticate(tokens.a);
    if (!caller) throw new Error('the apiserver did not authenticate the tenant-a token');
    expect(caller.user).toBe('system:serviceaccount:tenant-a:api-reader');
    expect(caller.groups).toContain('system:serviceaccounts:tenant-a');
    expect(await authorizer.canGetRuns(caller, 'tenant-a', 'TaskRun')).toBe(true);
    expect(await authorizer.canGetRuns(caller, 'tenant-a', 'PipelineRun')).toBe(true);
    expect(await authorizer.canGetRuns(caller, 'tenant-b', 'TaskRun')).toBe(false);
    expect(await authorizer.authenticate('made-up-token')).toBeUndefined();
  });

  it('401 for tokens not made for our audience: the apiserver’s own, another audience, a static token', async () => {
    const path = `/api/v1/attestations?digest=${shared}`;
    expect((await obs.api(path, tokens.a)).status).toBe(200);
    const refused = {
      apiserverAudience: await apiToken('tenantA', []),
      otherAudience: await apiToken('tenantA', ['some-other-service']),
      staticToken: env.tokens.tenantA,
      madeUp: 'made-up-token',
    };
    for (const [what, token] of Object.entries(refused)) {
      const res = await obs.api(path, token);
      expect([what, res.status]).toEqual([what, 401]);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    }
    expect((await obs.api(path)).status).toBe(401);
    // and the other way round: a token made for the observer is no good against the apiserver
    const asked = (token: string) =>
      httpStatus(`${env.apiserver}/api/v1/namespaces/tenant-a/serviceaccounts`, {
        authorization: `Bearer ${token}`,
      });
    expect(await asked(tokens.a)).toBe(401);
    expect(await asked(refused.apiserverAudience)).toBe(403); // valid there, only not allowed to list
  });

  it('each tenant sees its own attestations only; the auditor sees both', async () => {
    const asA = await obs.api(`/api/v1/attestations?digest=${shared}`, tokens.a);
    expect(namespacesOf(asA.json())).toEqual(['tenant-a']);
    expect(namespacesOf((await obs.api(`/api/v1/attestations?digest=${shared}`, tokens.b)).json())).toEqual([
      'tenant-b',
    ]);
    expect(
      namespacesOf((await obs.api(`/api/v1/attestations?digest=${shared}`, tokens.auditor)).json()),
    ).toEqual(['tenant-a', 'tenant-b']);
    expect((await obs.api(`/api/v1/attestations/${ids.b}`, tokens.a)).status).toBe(404);
    expect((await obs.api(`/api/v1/attestations/${ids.b}`, tokens.auditor)).status).toBe(200);
    expect((await obs.api('/api/v1/runs/tenant-b/taskruns/build-b', tokens.a)).status).toBe(403);
  });

  it('paging with limit=1 over a digest with hidden rows reveals no hidden id', async () => {
    const digest = digestOf(`paged-${process.pid}`);
    const visible: string[] = [];
    const hidden: string[] = [];
    // tenant-b's rows are the newest, the oldest and between each of tenant-a's
    for (let i = 0; i < 9; i++) {
      const namespace = i % 2 === 0 ? 'tenant-b' : 'tenant-a';
      const id = await obs.observer.index.addAttestation(
        newAttestation({
          namespace,
          name: `paged-${i}`,
          digests: [digest],
          createdAt: new Date(1_000_000 - i),
        }),
      );
      (namespace === 'tenant-a' ? visible : hidden).push(id);
    }
    const seen: string[] = [];
    const answers: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 20; page++) {
      const res = await obs.api(
        `/api/v1/attestations?digest=${digest}&limit=1${cursor ? `&cursor=${cursor}` : ''}`,
        tokens.a,
      );
      expect(res.status).toBe(200);
      answers.push(res.text);
      const body = res.json<{ items: { id: string }[]; next?: string }>();
      expect(body.items).toHaveLength(1);
      seen.push(body.items[0]!.id);
      cursor = body.next;
      if (!cursor) break;
      answers.push(Buffer.from(cursor, 'base64url').toString('latin1'));
    }
    expect(seen).toEqual(visible);
    const everything = answers.join('\n');
    for (const id of hidden) {
      expect(everything).not.toContain(id);
      expect(everything).not.toContain(Buffer.from(id, 'hex').toString('latin1'));
    }
  });

  it('400 for a forged or altered cursor, and for one of another digest', async () => {
    const digest = digestOf(`cursor-${process.pid}`);
    for (let i = 0; i < 3; i++)
      await obs.observer.index.addAttestation(
        newAttestation({
          name: `cursor-${i}`,
          digests: [digest, shared],
          createdAt: new Date(2_000_000 + i),
        }),
      );
    const first = (await obs.api(`/api/v1/attestations?digest=${digest}&limit=1`, tokens.a)).json<{
      next: string;
    }>();
    const raw = Buffer.from(first.next, 'base64url');
    raw[raw.length - 1]! ^= 1;
    const forged = Buffer.from(`1000000.${ids.b}`).toString('base64url'); // an unsealed index cursor
    for (const cursor of [raw.toString('base64url'), forged, 'AAAA']) {
      const res = await obs.api(`/api/v1/attestations?digest=${digest}&limit=1&cursor=${cursor}`, tokens.a);
      expect(res.status).toBe(400);
      expect(res.json<{ message: string }>().message).toMatch(/cursor/);
    }
    const elsewhere = await obs.api(`/api/v1/attestations?digest=${shared}&cursor=${first.next}`, tokens.a);
    expect(elsewhere.status).toBe(400);
    const good = await obs.api(
      `/api/v1/attestations?digest=${digest}&limit=1&cursor=${first.next}`,
      tokens.a,
    );
    expect(good.status).toBe(200);
  });

  it('refuses plain HTTP on the API port; probes and metrics are on their own plain port', async () => {
    const api = new URL(obs.observer.apiAddress ?? '');
    expect(api.protocol).toBe('https:');
    await expect(fetch(`http://${api.host}/api/v1/keys`)).rejects.toThrow();
    const answer = await rawExchange(
      api.hostname,
      Number(api.port),
      'GET /api/v1/keys HTTP/1.1\r\nHost: x\r\n\r\n',
    );
    expect(answer).not.toContain('HTTP/1.');
    expect(answer).not.toContain('keys');

    expect((await fetch(`${obs.observer.address}/readyz`)).status).toBe(200);
    expect(await (await fetch(`${obs.observer.address}/metrics`)).text()).toContain('watcher_');
    expect((await fetch(`${obs.observer.address}/api/v1/keys`)).status).toBe(404);
    expect((await obs.api('/metrics')).status).toBe(404);
    expect((await obs.api('/api/v1/keys')).status).toBe(200);
  });

  it('serves a replaced certificate without a restart, and keeps it when the new files do not load', async () => {
    const before = (await obs.api('/api/v1/keys')).peer.fingerprint256;
    expect(before).toBe(new X509Certificate(obs.apiCert.certPem).fingerprint256);
    const next = writeTestCert(dirname(obs.apiCert.certFile), 'api-next');
    // as the kubelet updates a Secret volume: the new files appear at the served paths at once
    renameSync(next.keyFile, obs.apiCert.keyFile);
    renameSync(next.certFile, obs.apiCert.certFile);
    // trusting only the new certificate: the old one fails verification until the swap
    const viaNew = () => apiGet(obs.observer.apiAddress ?? '', next.certPem, '/api/v1/keys');
    const after = await pollFor('the new certificate to be served', async () => {
      const peer = (await viaNew().catch(() => undefined))?.peer;
      return peer?.subject?.CN === 'api-next' ? peer.fingerprint256 : undefined;
    });
    expect(after).toBe(new X509Certificate(next.certPem).fingerprint256);

    // a certificate whose key does not match: warned about, the last good pair stays in service
    const warnings = () => obs.logs().split('do not load').length - 1;
    const warned = warnings();
    const mismatched = writeTestCert(dirname(obs.apiCert.certFile), 'api-broken');
    renameSync(mismatched.certFile, obs.apiCert.certFile);
    await pollFor('the warning about the broken pair', async () => (warnings() > warned ? true : undefined));
    const still = await viaNew();
    expect([still.status, still.peer.fingerprint256]).toEqual([200, after]);
  });
});

/** Writes `request` on a plain TCP connection and collects what comes back until the server closes it. */
function rawExchange(host: string, port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port }, () => socket.write(request));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', (err: NodeJS.ErrnoException) =>
      err.code === 'ECONNRESET' ? resolve(Buffer.concat(chunks).toString('latin1')) : reject(err),
    );
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.setTimeout(10_000, () => socket.destroy(new Error('the API port kept a plain connection open')));
  });
}

async function pollFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
