import { describe, expect, it } from 'vitest';
import { ObserverError } from '../../../src/errors.ts';
import { createMetrics } from '../../../src/observability/index.ts';
import { RegistryClient } from '../../../src/oci/index.ts';

type Handler = (url: URL, init: RequestInit) => Response;

/** A fetch that records requests and answers from a handler (fault injection only). */
function fakeFetch(handler: Handler) {
  const calls: { url: string; method: string; authorization: string | null }[] = [];
  const fn = (async (input: URL | string, init: RequestInit = {}) => {
    const url = new URL(String(input));
    calls.push({
      url: url.href,
      method: init.method ?? 'GET',
      authorization: new Headers(init.headers).get('authorization'),
    });
    return handler(url, init);
  }) as typeof fetch;
  return { fn, calls };
}

const bearer = 'Bearer realm="https://auth.test/token",service="reg"';

describe('RegistryClient auth', () => {
  it('answers a Bearer challenge with a token fetched using Basic creds, then reuses it per scope', async () => {
    const { fn, calls } = fakeFetch((url, init) => {
      if (url.host === 'auth.test') {
        expect(url.searchParams.get('scope')).toBe('repository:demo/app:pull');
        return Response.json({ token: 'tok', expires_in: 300 });
      }
      const auth = new Headers(init.headers).get('authorization');
      if (auth !== 'Bearer tok')
        return new Response(null, { status: 401, headers: { 'www-authenticate': bearer } });
      return new Response(null, { status: 404 });
    });
    const metrics = createMetrics();
    const client = new RegistryClient({
      registry: 'reg.test',
      credentials: { kind: 'basic', username: 'alice', password: 'wonderland' },
      fetch: fn,
      metrics,
    });
    expect(await client.blobExists('demo/app', `sha256:${'0'.repeat(64)}`)).toBe(false);
    expect(await client.blobExists('demo/app', `sha256:${'1'.repeat(64)}`)).toBe(false);
    expect(calls.map((c) => `${c.method} ${new URL(c.url).host}`)).toEqual([
      'HEAD reg.test',
      'GET auth.test',
      'HEAD reg.test',
      'HEAD reg.test',
    ]);
    expect(calls[1].authorization).toBe(`Basic ${Buffer.from('alice:wonderland').toString('base64')}`);
    expect(calls[0].url.startsWith('https://')).toBe(true);
    const counted = (await metrics.registryRequests.get()).values.map((v) => [
      v.labels.method,
      v.labels.status,
      v.value,
    ]);
    expect(counted).toEqual(
      expect.arrayContaining([
        ['HEAD', '401', 1],
        ['GET', '200', 1],
        ['HEAD', '404', 2],
      ]),
    );
  });

  it('fails clearly, without the password, when the token server refuses the credentials', async () => {
    const { fn } = fakeFetch((url) =>
      url.host === 'auth.test'
        ? new Response('{"errors":[{"code":"UNAUTHORIZED"}]}', { status: 401 })
        : new Response(null, { status: 401, headers: { 'www-authenticate': bearer } }),
    );
    const client = new RegistryClient({
      registry: 'reg.test',
      credentials: { kind: 'basic', username: 'u', password: 's3cret' },
      fetch: fn,
    });
    const err = await client.getManifest('demo/app', 'v1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ObserverError);
    expect(err).toMatchObject({ code: 'registry', retryable: false });
    expect((err as Error).message).toMatch(/reg\.test\/demo\/app: HTTP 401/);
    expect((err as Error).message).not.toContain('s3cret');
  });
});

describe('RegistryClient errors and uploads', () => {
  it('classifies 5xx/429 as retryable and other 4xx as not, naming repository and operation', async () => {
    for (const [status, retryable] of [
      [503, true],
      [429, true],
      [400, false],
      [403, false],
    ] as const) {
      const client = new RegistryClient({
        registry: 'r.test',
        fetch: fakeFetch(() => new Response(null, { status })).fn,
      });
      await expect(client.getManifest('team/app', 'v1')).rejects.toMatchObject({
        retryable,
        message: expect.stringContaining(`GET manifest v1 r.test/team/app: HTTP ${status}`),
      });
    }
  });

  it('turns a refused connection into a retryable error counted with status 0', async () => {
    const metrics = createMetrics();
    const client = new RegistryClient({ registry: '127.0.0.1:1', insecure: true, metrics, timeoutMs: 2000 });
    await expect(client.listTags('team/app')).rejects.toMatchObject({
      retryable: true,
      message: expect.stringMatching(/list tags 127\.0\.0\.1:1\/team\/app: no response/),
    });
    expect((await metrics.registryRequests.get()).values).toEqual([
      expect.objectContaining({ labels: { method: 'GET', kind: 'tags', status: '0' }, value: 1 }),
    ]);
  });

  it('reads all tag-list pages together within one manifest cap (a registry paging forever cannot grow the list past it)', async () => {
    const page = JSON.stringify({
      tags: Array.from({ length: 20_000 }, (_, i) => `tag-${i}-${'x'.repeat(40)}`),
    });
    let pages = 0;
    const { fn } = fakeFetch(() => {
      pages++;
      return new Response(page, { status: 200, headers: { link: '</v2/app/tags/list?n=2>; rel="next"' } });
    });
    const client = new RegistryClient({ registry: 'reg.test', fetch: fn });
    await expect(client.listTags('app')).rejects.toMatchObject({ reason: 'registry_body_too_large' });
    // ~1 MiB a page: the fifth crosses 4 MiB, far from the 100 pages followed at most
    expect(pages).toBeLessThanOrEqual(5);
  });

  it('uploads a blob once when it is asked for twice at once in one repository (the callers share it)', async () => {
    const { fn, calls } = fakeFetch((_url, init) =>
      init.method === 'POST'
        ? new Response(null, { status: 202, headers: { location: '/v2/a/blobs/uploads/u1' } })
        : new Response(null, { status: 201 }),
    );
    const client = new RegistryClient({ registry: 'r.test:5000', insecure: true, fetch: fn });
    const bytes = new TextEncoder().encode('one envelope, eight images');
    const digests = await Promise.all([1, 2, 3].map(() => client.uploadBlob('a', bytes, { fresh: true })));
    expect(new Set(digests).size).toBe(1);
    expect(calls.map((c) => c.method)).toEqual(['POST', 'PUT']);
    await client.uploadBlob('a', bytes, { fresh: true }); // done: a later call uploads again
    expect(calls).toHaveLength(4);
  });

  it('uploads with POST then PUT to a relative Location keeping its query, digest added', async () => {
    const { fn, calls } = fakeFetch((_url, init) => {
      if (init.method === 'HEAD') return new Response(null, { status: 404 });
      if (init.method === 'POST')
        return new Response(null, {
          status: 202,
          headers: { location: '/v2/a/blobs/uploads/u1?_state=xyz' },
        });
      return new Response(null, { status: 201 });
    });
    const client = new RegistryClient({ registry: 'r.test:5000', insecure: true, fetch: fn });
    const digest = await client.uploadBlob('a', new TextEncoder().encode('hi'));
    const put = new URL(calls[2].url);
    expect(put.origin + put.pathname).toBe('http://r.test:5000/v2/a/blobs/uploads/u1');
    expect(put.searchParams.get('_state')).toBe('xyz');
    expect(put.searchParams.get('digest')).toBe(digest);
  });

  it('reads the body of every answer it returns without (404 for a fresh tag, an unknown repository): an unread body keeps its request alive', async () => {
    const answers: Response[] = [];
    const { fn } = fakeFetch(() => {
      const res = Response.json({ errors: [{ code: 'MANIFEST_UNKNOWN' }] }, { status: 404 });
      answers.push(res);
      return res;
    });
    const client = new RegistryClient({ registry: 'reg.test', fetch: fn });
    expect(await client.getManifest('app', 'sha256-abc.att')).toBeUndefined();
    expect(await client.listTags('app')).toEqual([]);
    expect(await client.getReferrers('app', `sha256:${'a'.repeat(64)}`)).toBeUndefined();
    expect(answers.map((a) => a.bodyUsed)).toEqual([true, true, true]);
  });

  it('rejects a manifest whose bytes do not match the digest asked for', async () => {
    const client = new RegistryClient({
      registry: 'r.test',
      fetch: fakeFetch(() => new Response('{}', { status: 200 })).fn,
    });
    await expect(client.getManifest('a', `sha256:${'0'.repeat(64)}`)).rejects.toThrow(
      /content digest is sha256:/,
    );
  });
});
