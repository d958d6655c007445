import { describe, expect, it } from 'vitest';
import { type ObserverError, tenantMessage } from '../../../src/errors.ts';
import { CircuitBreakers, HostPolicy, RegistryClient, type RegistryFetch } from '../../../src/oci/index.ts';
import { parseImageManifest } from '../../../src/oci/manifest.ts';

const MARKER = 'HOSTILE-MARKER-7f3a';
type Handler = (url: URL, init: RequestInit) => Response;

function fakeFetch(handler: Handler) {
  const calls: { url: string; headers: Headers; redirect?: string }[] = [];
  const fn: RegistryFetch = async (url, init) => {
    calls.push({ url: url.href, headers: new Headers(init.headers), redirect: init.redirect });
    return handler(url, init);
  };
  return { fn, calls };
}

const failure = (p: Promise<unknown>) =>
  p.then(
    () => expect.unreachable('expected a failure'),
    (e: unknown) => e as ObserverError,
  );

describe('RegistryClient against a hostile registry', () => {
  it('asks for identity encoding and handles redirects itself', async () => {
    const { fn, calls } = fakeFetch(() => new Response(null, { status: 404 }));
    await new RegistryClient({ registry: 'r.test', fetch: fn }).blobExists('a', `sha256:${'0'.repeat(64)}`);
    expect(calls[0].headers.get('accept-encoding')).toBe('identity');
    expect(calls[0].redirect).toBe('manual');
  });

  it('refuses a compressed manifest and an oversized one with reason codes, tenant text free of the body', async () => {
    for (const [headers, body, reason] of [
      [{ 'content-encoding': 'gzip' }, 'x', 'registry_content_encoding'],
      [{}, `${MARKER}${'x'.repeat(5 * 1024 * 1024)}`, 'registry_body_too_large'],
    ] as const) {
      const fn: RegistryFetch = async () => new Response(body, { status: 200, headers });
      const err = await failure(new RegistryClient({ registry: 'r.test', fetch: fn }).getManifest('a', 'v1'));
      expect(err.reason).toBe(reason);
      expect(err.retryable).toBe(false);
      expect(tenantMessage(err)).toMatch(/^registry r\.test: registry_/);
    }
  });

  it('keeps error bodies out of the tenant text (they stay in the log message)', async () => {
    const body = JSON.stringify({ errors: [{ code: 'DENIED', message: MARKER }] });
    const fn: RegistryFetch = async () => new Response(body, { status: 403 });
    const err = await failure(new RegistryClient({ registry: 'r.test', fetch: fn }).getManifest('a', 'v1'));
    expect(err.message).toContain(MARKER);
    expect(tenantMessage(err)).toBe(
      'registry r.test: registry_denied (authentication or authorization failed)',
    );
  });

  it('never follows https to http, nor to a refused host; credentials never leave the origin', async () => {
    const policy = new HostPolicy();
    const to = (location: string) =>
      fakeFetch((url) =>
        url.host === 'r.test'
          ? new Response(null, { status: 307, headers: { location } })
          : new Response('{}'),
      );
    const creds = { kind: 'basic', username: 'u', password: 'p' } as const;
    for (const location of [
      'http://r.test/v2/a/manifests/v1',
      'https://127.0.0.2/x',
      'https://[::1]/x',
      'file:///etc/passwd',
    ]) {
      const { fn, calls } = to(location);
      const err = await failure(
        new RegistryClient({ registry: 'r.test', fetch: fn, policy }).getManifest('a', 'v1'),
      );
      expect(err.reason, location).toBe('registry_redirect_forbidden');
      expect(calls.length).toBe(1);
    }
    const { fn, calls } = to('https://storage.example/blob?sig=1');
    const client = new RegistryClient({ registry: 'r.test', fetch: fn, policy, credentials: creds });
    await client.getManifest('a', 'v1');
    expect(calls.map((c) => new URL(c.url).host)).toEqual(['r.test', 'storage.example']);
    expect(calls[1].headers.get('authorization')).toBeNull();
  });

  it("a redirect target's challenge gets none of the registry's credentials (no token request with them)", async () => {
    const policy = new HostPolicy();
    const creds = { kind: 'basic', username: 'u', password: 'p' } as const;
    for (const challenge of ['Bearer realm="https://evil.example/token",service="x"', 'Basic realm="x"']) {
      const { fn, calls } = fakeFetch((url) =>
        url.host === 'r.test'
          ? new Response(null, {
              status: 307,
              headers: { location: 'https://evil.example/v2/a/manifests/v1' },
            })
          : url.pathname === '/token'
            ? new Response('{"token":"t"}')
            : new Response(null, { status: 401, headers: { 'www-authenticate': challenge } }),
      );
      const client = new RegistryClient({ registry: 'r.test', fetch: fn, policy, credentials: creds });
      expect(await client.headManifest('a', 'v1')).toBe(401);
      expect(calls.map((c) => new URL(c.url).href)).toEqual([
        'https://r.test/v2/a/manifests/v1',
        'https://evil.example/v2/a/manifests/v1',
      ]);
      for (const c of calls.slice(1)) expect(c.headers.get('authorization')).toBeNull();
    }
  });

  it('refuses a token realm on a refused host or over plain http, without contacting it', async () => {
    for (const [realm, registry, insecure] of [
      ['https://127.0.0.2:9/token', 'r.test', false],
      ['http://auth.example/token', 'r.test', false],
      ['ftp://auth.example/token', 'r.test', false],
      ['http://other.test:81/token', 'r.test:5000', true],
    ] as const) {
      const { fn, calls } = fakeFetch(
        () => new Response(null, { status: 401, headers: { 'www-authenticate': `Bearer realm="${realm}"` } }),
      );
      const client = new RegistryClient({
        registry,
        insecure,
        fetch: fn,
        policy: new HostPolicy({ allowed: ['r.test'] }),
      });
      const err = await failure(client.getManifest('a', 'v1'));
      expect(err.reason, realm).toBe('registry_realm_forbidden');
      expect(
        calls.every((c) => !c.url.startsWith(realm.split('/token')[0])),
        realm,
      ).toBe(true);
    }
  });

  it('refuses an absolute upload Location that leaves https or lands on a refused host', async () => {
    for (const location of ['http://r.test/up?x=1', 'https://169.254.169.254/latest']) {
      const { fn, calls } = fakeFetch((_url, init) =>
        init.method === 'HEAD'
          ? new Response(null, { status: 404 })
          : new Response(null, { status: 202, headers: { location } }),
      );
      const client = new RegistryClient({ registry: 'r.test', fetch: fn, policy: new HostPolicy() });
      const err = await failure(client.uploadBlob('a', new Uint8Array([1])));
      expect(err.reason, location).toMatch(/registry_(redirect|host)_forbidden/);
      expect(calls.some((c) => c.url.startsWith(location.split('?')[0]))).toBe(false);
    }
  });

  it('opens the circuit after repeated 5xx and fails fast without sending', async () => {
    const { fn, calls } = fakeFetch(() => new Response(MARKER, { status: 503 }));
    const breakers = new CircuitBreakers({ failureThreshold: 3, coolDownMs: 60_000 });
    const client = new RegistryClient({ registry: 'down.test', fetch: fn, breakers });
    for (let i = 0; i < 3; i++) await failure(client.getManifest('a', 'v1'));
    const err = await failure(client.getManifest('a', 'v1'));
    expect(err).toMatchObject({ reason: 'registry_circuit_open', retryable: true });
    expect(calls.length).toBe(3);
  });

  it('a 5xx that opens the circuit, or is its failed probe, says until when the host is down (its attempt is deferred, not counted)', async () => {
    let now = 1_000_000;
    const { fn } = fakeFetch(() => new Response(MARKER, { status: 500 }));
    const breakers = new CircuitBreakers({ failureThreshold: 2, coolDownMs: 30_000, now: () => now });
    const client = new RegistryClient({ registry: 'down.test', fetch: fn, breakers });
    const first = await failure(client.getManifest('a', 'v1'));
    expect(first).toMatchObject({ reason: 'registry_server_error' });
    expect(first.notBefore).toBeUndefined(); // the circuit is still closed: an ordinary failure
    const opening = await failure(client.getManifest('a', 'v1'));
    expect(opening).toMatchObject({ reason: 'registry_server_error', notBefore: now + 30_000 });
    now += 30_000;
    const probe = await failure(client.getManifest('a', 'v1'));
    expect(probe).toMatchObject({ reason: 'registry_server_error', notBefore: now + 30_000 });
  });

  it('caps layers per manifest read (cosign: 1000)', () => {
    const layer = { mediaType: 'x', size: 1, digest: `sha256:${'0'.repeat(64)}` };
    const bytes = new TextEncoder().encode(
      JSON.stringify({ schemaVersion: 2, config: layer, layers: Array(10_000).fill(layer) }),
    );
    expect(() => parseImageManifest(bytes, 'r.test/a:sha256-x.att')).toThrow(
      expect.objectContaining({ reason: 'registry_too_many_layers' }),
    );
    expect(() => parseImageManifest(new TextEncoder().encode(`{"${MARKER}`), 'c')).toThrow(
      expect.objectContaining({ reason: 'registry_bad_answer', publicMessage: 'c: registry_bad_answer' }),
    );
  });
});
