import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Authorizer } from '../../../src/http/index.ts';
import {
  buildApiServer,
  buildProbeServer,
  CachedAuthorizer,
  FailedReviewLimit,
} from '../../../src/http/index.ts';
import { type AttestationIndex, CursorSealer, SqliteIndex } from '../../../src/index/index.ts';
import { createMetrics } from '../../../src/observability/index.ts';
import type { PublicKeyInfo } from '../../../src/signing/signer.ts';
import { digestOf, newAttestation } from '../index/attestation-fixtures.ts';
import { fakeAuthorizer } from './fake-authorizer.ts';

const KINDS = ['TaskRun', 'PipelineRun'];
const grantsFor = (user: string, namespaces: string[]) =>
  namespaces.flatMap((ns) => KINDS.map((k) => `${user} ${ns} ${k}`));
const tokens = {
  'token-a': { user: 'alice', groups: ['tenant-a-devs'] },
  'token-b': { user: 'bob', groups: ['tenant-b-devs'] },
  'token-admin': { user: 'admin', groups: ['system:masters'] },
};
const grants = [
  ...grantsFor('alice', ['tenant-a']),
  ...grantsFor('bob', ['tenant-b']),
  ...grantsFor('admin', ['tenant-a', 'tenant-b']),
];
const keys: PublicKeyInfo[] = [
  {
    keyId: 'SHA256:new',
    algorithm: 'ecdsa-p256-sha256',
    publicKeyPem: '-----BEGIN PUBLIC KEY-----\nAA==\n-----END PUBLIC KEY-----\n',
    active: true,
  },
  {
    keyId: 'SHA256:old',
    algorithm: 'ed25519',
    publicKeyPem: '-----BEGIN PUBLIC KEY-----\nAQ==\n-----END PUBLIC KEY-----\n',
    active: false,
  },
];
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

let index: SqliteIndex;
let fake: ReturnType<typeof fakeAuthorizer>;
let checks: Record<string, { ok: boolean; message?: string }>;
let app: FastifyInstance;
let probes: FastifyInstance;
let cursors: CursorSealer;
let ids: { a: string; b: string };

function build(
  overrides: { index?: AttestationIndex; authorizer?: Authorizer; reviewLimit?: FailedReviewLimit } = {},
) {
  return buildApiServer({
    index: overrides.index ?? index,
    publicKeys: () => keys,
    authorizer: overrides.authorizer ?? fake.authorizer,
    cursors,
    ...(overrides.reviewLimit ? { reviewLimit: overrides.reviewLimit } : {}),
  });
}

beforeEach(async () => {
  index = new SqliteIndex({ path: ':memory:' });
  fake = fakeAuthorizer({ tokens, grants });
  checks = { informer: { ok: true }, signer: { ok: true } };
  ids = {
    a: await index.addAttestation(
      newAttestation({
        namespace: 'tenant-a',
        digests: [digestOf('shared'), digestOf('a-only')],
        createdAt: new Date(2000),
      }),
    ),
    b: await index.addAttestation(
      newAttestation({ namespace: 'tenant-b', digests: [digestOf('shared')], createdAt: new Date(3000) }),
    ),
  };
  await index.putRunRecord({
    uid: 'uid-tenant-a-build-1',
    run: { kind: 'TaskRun', namespace: 'tenant-a', name: 'build-1' },
    status: 'attested',
    attempts: 1,
    lastError: 'registry down',
    updatedAt: new Date(2500),
  });
  cursors = new CursorSealer();
  app = build();
  probes = buildProbeServer({ metrics: createMetrics(), health: { checks: () => checks } });
});
afterEach(async () => {
  await app.close();
  await probes.close();
  await index.close();
});

describe('probes, metrics and keys (anonymous)', () => {
  it('/livez answers ok without consulting checks', async () => {
    checks = { informer: { ok: false } };
    const res = await probes.inject({ url: '/livez' });
    expect([res.statusCode, res.body]).toEqual([200, 'ok']);
  });

  it('/readyz is 200 when every check passes and 503 naming the failing one otherwise', async () => {
    expect((await probes.inject({ url: '/readyz' })).json()).toEqual({ status: 'ok', checks });
    checks = { informer: { ok: true }, signer: { ok: false, message: 'no signing key loaded' } };
    const res = await probes.inject({ url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({
      status: 'not ready',
      checks: { informer: { ok: true }, signer: { ok: false, message: 'no signing key loaded' } },
    });
  });

  it('/metrics serves Prometheus text with Chains counter names at zero', async () => {
    const res = await probes.inject({ url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    for (const line of [
      'watcher_taskrun_sign_created_total 0',
      'watcher_pipelinerun_sign_created_total 0',
      'watcher_taskrun_payload_stored_total 0',
      'watcher_pipelinerun_marked_signed_total 0',
      'watcher_taskrun_signing_failures_total{error_type="signing"} 0',
    ]) {
      expect(res.body).toContain(line);
    }
  });

  it('/api/v1/keys lists active and retired keys without a token', async () => {
    const res = await app.inject({ url: '/api/v1/keys' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ keys });
    expect(fake.state.authenticateCalls).toBe(0);
  });

  it('unknown routes are 404 JSON', async () => {
    const res = await app.inject({ url: '/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ statusCode: 404, error: 'Not Found', message: 'no such route' });
  });

  it('keeps the API and the probes apart: no probes or metrics on the API, no API on the probe port', async () => {
    for (const url of ['/livez', '/readyz', '/metrics'])
      expect((await app.inject({ url })).statusCode).toBe(404);
    for (const url of ['/api/v1/keys', `/api/v1/attestations?digest=${digestOf('shared')}`])
      expect((await probes.inject({ url, headers: bearer('token-admin') })).statusCode).toBe(404);
  });
});

describe('authentication', () => {
  const url = `/api/v1/attestations?digest=${digestOf('shared')}`;

  it.each([
    ['no Authorization header', {}],
    ['a non-Bearer scheme', { authorization: 'Basic YWxpY2U6cGFzcw==' }],
    ['an empty bearer token', { authorization: 'Bearer ' }],
    ['an oversized token', { authorization: `Bearer ${'x'.repeat(9000)}` }],
  ])('401 with WWW-Authenticate for %s, without asking the apiserver', async (_name, headers) => {
    const res = await app.inject({ url, headers });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="provenance-observer"');
    expect(fake.state.authenticateCalls).toBe(0);
  });

  it('401 for a token the reviewer does not accept, never echoing it', async () => {
    const res = await app.inject({ url, headers: bearer('made-up-token') });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(res.body).not.toContain('made-up-token');
    expect(fake.state.authenticateCalls).toBe(1);
  });

  it('503 with Retry-After and no detail when the apiserver cannot review', async () => {
    fake.state.fail = true;
    const res = await app.inject({ url, headers: bearer('token-a') });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.json().message).toBe('access reviews are unavailable; retry later');
  });
});

describe('GET /api/v1/attestations?digest=', () => {
  const list = (token: string, query: string) =>
    app.inject({ url: `/api/v1/attestations?${query}`, headers: bearer(token) });

  it('shows each caller only the runs they may get', async () => {
    const names = async (token: string) =>
      (await list(token, `digest=${digestOf('shared')}`))
        .json()
        .items.map((i: { run: { namespace: string } }) => i.run.namespace);
    expect(await names('token-a')).toEqual(['tenant-a']);
    expect(await names('token-b')).toEqual(['tenant-b']);
    expect(await names('token-admin')).toEqual(['tenant-b', 'tenant-a']);
  });

  it('answers the summary fields, with dates as RFC 3339', async () => {
    const res = await list('token-a', `digest=${digestOf('a-only')}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      items: [
        {
          id: ids.a,
          run: { kind: 'TaskRun', namespace: 'tenant-a', name: 'build-1', uid: 'uid-tenant-a-build-1' },
          predicateType: 'https://slsa.dev/provenance/v1',
          subjects: [
            { name: 'registry.local/app-0', digest: digestOf('shared') },
            { name: 'registry.local/app-1', digest: digestOf('a-only') },
          ],
          keyId: 'SHA256:test',
          origin: 'observer',
          storage: [{ backend: 'oci', ok: true, locations: ['registry.local/app:sha256-abc.att'] }],
          skipped: [],
          createdAt: '1970-01-01T00:00:02.000Z',
        },
      ],
    });
  });

  it('paginates newest first past attestations the caller may not see', async () => {
    const mine: string[] = [];
    for (let i = 0; i < 5; i++) {
      mine.push(
        await index.addAttestation(
          newAttestation({
            name: `a-${i}`,
            sig: `a${i}`,
            digests: [digestOf('p')],
            createdAt: new Date(10_000 + 2 * i),
          }),
        ),
      );
      await index.addAttestation(
        newAttestation({
          namespace: 'tenant-b',
          name: `b-${i}`,
          sig: `b${i}`,
          digests: [digestOf('p')],
          createdAt: new Date(10_001 + 2 * i),
        }),
      );
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const res = await list(
        'token-a',
        `digest=${digestOf('p')}&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(res.statusCode).toBe(200);
      const body = res.json();
      // pages are full: hidden rows neither take places nor leave gaps
      expect(body.items).toHaveLength(body.next ? 2 : 1);
      seen.push(...body.items.map((i: { id: string }) => i.id));
      cursor = body.next;
      pages++;
    } while (cursor && pages < 10);
    expect(seen).toEqual([...mine].reverse());
    expect(pages).toBe(3);
    // access is asked once per (namespace, kind) per page, not once per item
    expect(fake.state.accessCalls).toBeLessThanOrEqual(2 * pages);
  });

  it('limit=1 over a digest with hidden rows: one page per visible row, no cursor carries a hidden id', async () => {
    const hidden: string[] = [];
    const add = async (namespace: string, i: number) =>
      index.addAttestation(
        newAttestation({
          namespace,
          name: `r-${i}`,
          sig: `${namespace}${i}`,
          digests: [digestOf('h')],
          createdAt: new Date(20_000 + i),
        }),
      );
    // hidden rows newest, oldest and between the visible ones
    for (const i of [0, 2, 4, 6]) hidden.push(await add('tenant-b', i));
    const visible = [await add('tenant-a', 5), await add('tenant-a', 3)];
    const pages: { items: { id: string }[]; next?: string }[] = [];
    let cursor: string | undefined;
    do {
      const res = await list(
        'token-a',
        `digest=${digestOf('h')}&limit=1${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(res.statusCode).toBe(200);
      pages.push(res.json());
      cursor = pages.at(-1)?.next;
    } while (cursor && pages.length < 10);
    expect(pages.map((p) => p.items.map((i) => i.id))).toEqual([[visible[0]], [visible[1]]]);
    expect(pages[1].next).toBeUndefined(); // older hidden rows do not keep a next page alive
    const cursorBytes = Buffer.from(pages[0].next ?? '', 'base64url');
    for (const id of [...hidden, ...visible]) {
      expect(pages[0].next).not.toContain(id);
      expect(cursorBytes.includes(Buffer.from(id, 'hex'))).toBe(false);
      expect(cursorBytes.toString('latin1')).not.toContain(id);
    }
  });

  it('400 for a cursor altered, forged, of another digest, or sealed under another key; same secret works', async () => {
    for (let i = 0; i < 3; i++)
      await index.addAttestation(
        newAttestation({ name: `c-${i}`, sig: `c${i}`, digests: [digestOf('c'), digestOf('d')] }),
      );
    const first = (await list('token-a', `digest=${digestOf('c')}&limit=1`)).json();
    const next: string = first.next;
    expect(next).toMatch(/^[A-Za-z0-9_-]+$/);
    const raw = Buffer.from(next, 'base64url');
    const flipped = (at: number) => {
      const copy = Buffer.from(raw);
      copy[at] ^= 1;
      return copy.toString('base64url');
    };
    const { encodeCursor } = await import('../../../src/index/cursor.ts');
    const forged = encodeCursor({ createdAt: 9_999_999, id: ids.b });
    for (const cursor of [
      flipped(0),
      flipped(5),
      flipped(20),
      flipped(raw.length - 1),
      next.slice(0, -4),
      forged,
    ]) {
      const res = await list('token-a', `digest=${digestOf('c')}&limit=1&cursor=${cursor}`);
      expect(res.statusCode).toBe(400);
      expect(res.json().message).toMatch(/cursor/);
    }
    expect((await list('token-a', `digest=${digestOf('d')}&limit=1&cursor=${next}`)).statusCode).toBe(400);
    const otherKey = buildApiServer({
      index,
      publicKeys: () => keys,
      authorizer: fake.authorizer,
      cursors: new CursorSealer(),
    });
    const viaOther = await otherKey.inject({
      url: `/api/v1/attestations?digest=${digestOf('c')}&cursor=${next}`,
      headers: bearer('token-a'),
    });
    expect(viaOther.statusCode).toBe(400);
    await otherKey.close();

    const secret = Buffer.alloc(32, 7);
    const replicas = [0, 1].map(() =>
      buildApiServer({
        index,
        publicKeys: () => keys,
        authorizer: fake.authorizer,
        cursors: new CursorSealer({ secret }),
      }),
    );
    const url = `/api/v1/attestations?digest=${digestOf('c')}&limit=1`;
    const page1 = (await replicas[0].inject({ url, headers: bearer('token-a') })).json();
    const page2 = await replicas[1].inject({
      url: `${url}&cursor=${page1.next}`,
      headers: bearer('token-a'),
    });
    expect(page2.statusCode).toBe(200);
    expect(page2.json().items[0].id).not.toBe(page1.items[0].id);
    for (const r of replicas) await r.close();
  });

  it('answers an empty page for a digest nobody attested', async () => {
    expect((await list('token-a', `digest=${digestOf('none')}`)).json()).toEqual({ items: [] });
  });

  it.each([
    ['a missing digest', ''],
    ['a tag instead of a digest', 'digest=latest'],
    ['a short digest', 'digest=sha256:abc'],
    ['an upper-case digest', `digest=${digestOf('x').toUpperCase()}`],
    ['limit 0', `digest=${digestOf('x')}&limit=0`],
    ['limit 101', `digest=${digestOf('x')}&limit=101`],
    ['a non-numeric limit', `digest=${digestOf('x')}&limit=ten`],
    ['a cursor with bad characters', `digest=${digestOf('x')}&cursor=a%20b`],
    ['a cursor this server did not write', `digest=${digestOf('x')}&cursor=bm9wZQ`],
  ])('400 with the reason for %s', async (_name, query) => {
    const res = await list('token-a', query);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ statusCode: 400, error: 'Bad Request', message: expect.any(String) });
    expect(res.json().message.length).toBeGreaterThan(5);
  });
});

describe('GET /api/v1/attestations/:id and /envelope', () => {
  it('returns a visible attestation and its envelope exactly as stored', async () => {
    const res = await app.inject({ url: `/api/v1/attestations/${ids.a}`, headers: bearer('token-a') });
    expect(res.statusCode).toBe(200);
    expect(res.json().id).toBe(ids.a);
    const env = await app.inject({
      url: `/api/v1/attestations/${ids.a}/envelope`,
      headers: bearer('token-a'),
    });
    expect(env.statusCode).toBe(200);
    expect(env.headers['content-type']).toMatch(/^application\/json/);
    expect(env.body).toBe(JSON.stringify(newAttestation({ namespace: 'tenant-a' }).envelope));
  });

  it('answers 404 alike for an unknown id and for another tenant’s attestation', async () => {
    for (const path of ['', '/envelope']) {
      const hidden = await app.inject({
        url: `/api/v1/attestations/${ids.b}${path}`,
        headers: bearer('token-a'),
      });
      const unknown = await app.inject({
        url: `/api/v1/attestations/${'f'.repeat(64)}${path}`,
        headers: bearer('token-a'),
      });
      expect([hidden.statusCode, unknown.statusCode]).toEqual([404, 404]);
      expect(hidden.json().message.replace(ids.b, 'ID')).toBe(
        unknown.json().message.replace('f'.repeat(64), 'ID'),
      );
    }
    expect(
      (await app.inject({ url: `/api/v1/attestations/${ids.b}`, headers: bearer('token-admin') })).statusCode,
    ).toBe(200);
  });

  it('400 for an id that is not 64 hex digits', async () => {
    const res = await app.inject({ url: '/api/v1/attestations/not-an-id', headers: bearer('token-a') });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/params\/id/);
  });
});

describe('GET /api/v1/runs/:namespace/:plural/:name', () => {
  it('returns the run’s states and attestations with where each is stored', async () => {
    const res = await app.inject({
      url: '/api/v1/runs/tenant-a/taskruns/build-1',
      headers: bearer('token-a'),
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.run).toEqual({ kind: 'TaskRun', namespace: 'tenant-a', name: 'build-1' });
    expect(body.states).toEqual([
      {
        uid: 'uid-tenant-a-build-1',
        status: 'attested',
        attempts: 1,
        lastError: 'registry down',
        updatedAt: '1970-01-01T00:00:02.500Z',
      },
    ]);
    expect(body.attestations.map((a: { id: string }) => a.id)).toEqual([ids.a]);
    expect(body.attestations[0].storage[0].locations).toEqual(['registry.local/app:sha256-abc.att']);
  });

  it('403 for a namespace the caller may not read, whether or not the run exists', async () => {
    for (const name of ['build-1', 'never-existed']) {
      const res = await app.inject({
        url: `/api/v1/runs/tenant-b/taskruns/${name}`,
        headers: bearer('token-a'),
      });
      expect(res.statusCode).toBe(403);
      expect(res.json().message).toBe('alice may not get taskruns in namespace tenant-b');
    }
  });

  it('404 for a run the index knows nothing of, and per kind', async () => {
    expect(
      (await app.inject({ url: '/api/v1/runs/tenant-a/taskruns/missing', headers: bearer('token-a') }))
        .statusCode,
    ).toBe(404);
    expect(
      (await app.inject({ url: '/api/v1/runs/tenant-a/pipelineruns/build-1', headers: bearer('token-a') }))
        .statusCode,
    ).toBe(404);
  });

  it.each([
    ['an unknown plural', '/api/v1/runs/tenant-a/pods/build-1'],
    ['an invalid namespace', '/api/v1/runs/Tenant_A/taskruns/build-1'],
    ['an invalid name', '/api/v1/runs/tenant-a/taskruns/-bad-'],
  ])('400 for %s', async (_name, url) => {
    expect((await app.inject({ url, headers: bearer('token-a') })).statusCode).toBe(400);
  });
});

describe('failure and overload', () => {
  it('hides 5xx detail', async () => {
    const corrupt = async () => {
      throw new Error('SQLITE_CORRUPT at /var/lib/secret/path.db');
    };
    const broken = { digestScopes: corrupt, findByDigest: corrupt } as unknown as AttestationIndex;
    const server = build({ index: broken });
    const res = await server.inject({
      url: `/api/v1/attestations?digest=${digestOf('x')}`,
      headers: bearer('token-a'),
    });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({
      statusCode: 500,
      error: 'Internal Server Error',
      message: 'internal error',
    });
    await server.close();
  });

  it('2,000 malformed requests cost no access review and a good request still answers', async () => {
    const bad = Array.from({ length: 2000 }, (_, i) =>
      app.inject({ url: `/api/v1/attestations?digest=sha256:${i}`, headers: bearer(`junk-${i}`) }),
    );
    const statuses = new Set((await Promise.all(bad)).map((r) => r.statusCode));
    expect([...statuses]).toEqual([400]);
    expect(fake.state.authenticateCalls).toBe(0);
    const good = await app.inject({
      url: `/api/v1/attestations?digest=${digestOf('shared')}`,
      headers: bearer('token-a'),
    });
    expect(good.statusCode).toBe(200);
    expect(good.json().items).toHaveLength(1);
  });

  it('2,000 distinct bad tokens from one client: at most its burst of failed reviews, then 429; other clients are served', async () => {
    const slow = fakeAuthorizer({ tokens, grants, delayMs: 5 });
    const server = build({
      authorizer: new CachedAuthorizer({ inner: slow.authorizer, maxInFlight: 4, maxQueued: 100 }),
    });
    const flood = async () => {
      for (let i = 0; i < 2000; i += 100) {
        const wave = Array.from({ length: 100 }, (_, j) =>
          server.inject({
            url: `/api/v1/attestations?digest=${digestOf('shared')}`,
            headers: bearer(`flood-${i + j}`),
            remoteAddress: '10.0.0.66',
          }),
        );
        for (const r of await Promise.all(wave)) statuses.add(r.statusCode);
      }
    };
    const statuses = new Set<number>();
    await flood();
    expect(statuses).toEqual(new Set([401, 429]));
    // the default burst (10 failures) and in-flight cap (4) bound what the flood cost
    expect(slow.state.authenticateCalls).toBeLessThanOrEqual(14);
    const good = await server.inject({
      url: `/api/v1/attestations?digest=${digestOf('shared')}`,
      headers: bearer('token-a'),
      remoteAddress: '10.0.0.2',
    });
    expect(good.statusCode).toBe(200);
    await server.close();
  });

  it('2,000 distinct bad tokens at once (no per-client limit): reviews stay bounded, the rest fail fast, a good request still answers', async () => {
    const slow = fakeAuthorizer({ tokens, grants, delayMs: 5 });
    const server = build({
      authorizer: new CachedAuthorizer({ inner: slow.authorizer, maxInFlight: 4, maxQueued: 100 }),
      reviewLimit: new FailedReviewLimit({ burst: 1e9, maxInFlight: 1e9 }),
    });
    const burst = Array.from({ length: 2000 }, (_, i) =>
      server.inject({
        url: `/api/v1/attestations?digest=${digestOf('shared')}`,
        headers: bearer(`junk-${i}`),
      }),
    );
    const statuses = (await Promise.all(burst)).map((r) => r.statusCode);
    expect(new Set(statuses)).toEqual(new Set([401, 503]));
    expect(slow.state.maxInFlight).toBeLessThanOrEqual(4);
    expect(slow.state.authenticateCalls).toBeLessThanOrEqual(104);
    const good = await server.inject({
      url: `/api/v1/attestations?digest=${digestOf('shared')}`,
      headers: bearer('token-a'),
    });
    expect(good.statusCode).toBe(200);
    await server.close();
  });
});
