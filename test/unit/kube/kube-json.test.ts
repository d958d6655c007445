import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ObserverError } from '../../../src/errors.ts';
import {
  isRunGone,
  KubeApiError,
  KubeConnection,
  KubeJson,
  kubeError,
  kubeStatusOf,
  MERGE_PATCH,
} from '../../../src/kube/index.ts';
import { kubeAccessWithToken } from '../../env/index.ts';

// KubeJson against a stand-in apiserver: what it sends, and how answers outside 2xx map to errors.
describe('KubeJson and the error mapping', () => {
  const seen: { method?: string; url?: string; type?: string; body: string }[] = [];
  let server: ReturnType<typeof createServer>;
  let json: KubeJson;
  let connection: KubeConnection;

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, type: req.headers['content-type'], body });
        const status = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('status') ?? 200);
        if (status === 204) res.writeHead(204).end();
        else if (status === 502) res.writeHead(502).end('<html>bad gateway</html>');
        else
          res
            .writeHead(status, { 'content-type': 'application/json' })
            .end(
              JSON.stringify(
                status === 200 ? { ok: true } : { kind: 'Status', code: status, message: `said ${status}` },
              ),
            );
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    connection = new KubeConnection({
      access: kubeAccessWithToken(`http://127.0.0.1:${(server.address() as AddressInfo).port}/prefix`, 't'),
    });
    json = new KubeJson(connection);
  });
  afterAll(async () => {
    await connection.close();
    server.close();
  });

  it('sends JSON bodies with the content type asked for, under the server path, and parses answers', async () => {
    expect(await json.send('PATCH', '/api/v1/x', { body: { a: 1 }, contentType: MERGE_PATCH })).toEqual({
      ok: true,
    });
    expect(await json.send('PUT', '/api/v1/x', { body: { b: 2 } })).toEqual({ ok: true });
    expect(await json.send('DELETE', '/api/v1/x', { query: { status: 204 } })).toBeUndefined();
    expect(seen.slice(-3)).toEqual([
      { method: 'PATCH', url: '/prefix/api/v1/x', type: MERGE_PATCH, body: '{"a":1}' },
      { method: 'PUT', url: '/prefix/api/v1/x', type: 'application/json', body: '{"b":2}' },
      { method: 'DELETE', url: '/prefix/api/v1/x?status=204', type: undefined, body: '' },
    ]);
  });

  it('throws KubeApiError with the status and the parsed Status (or the text of a non-JSON answer)', async () => {
    const notFound = await json.send('GET', '/api/v1/x', { query: { status: 404 } }).catch((e: unknown) => e);
    expect(notFound).toBeInstanceOf(KubeApiError);
    expect(notFound).toMatchObject({
      code: 404,
      message: 'HTTP 404: said 404',
      body: { kind: 'Status', code: 404 },
    });
    await expect(json.send('GET', '/api/v1/x', { query: { status: 502 } })).rejects.toMatchObject({
      code: 502,
      body: '<html>bad gateway</html>',
    });
  });

  it('kubeError: 409, 429, 5xx and network failures are retryable, other 4xx are not; isRunGone is 404/409', async () => {
    const failed = async (status: number) =>
      kubeError(
        'reading TaskRun ns/x',
        await json.send('GET', '/', { query: { status } }).catch((e: unknown) => e),
      );
    for (const [status, retryable] of [
      [400, false],
      [403, false],
      [404, false],
      [409, true],
      [429, true],
      [500, true],
      [503, true],
    ] as const) {
      const err = await failed(status);
      expect(err).toBeInstanceOf(ObserverError);
      expect([status, err.retryable, err.message]).toEqual([
        status,
        retryable,
        `reading TaskRun ns/x: HTTP ${status}: said ${status}`,
      ]);
      expect(kubeStatusOf(err)).toBe(status);
      expect(isRunGone(err)).toBe(status === 404 || status === 409);
    }
    const offline = new KubeJson(
      new KubeConnection({ access: kubeAccessWithToken('http://127.0.0.1:1', 't') }),
    );
    const network = kubeError('listing taskruns', await offline.send('GET', '/').catch((e: unknown) => e));
    expect([network.retryable, kubeStatusOf(network), isRunGone(network)]).toEqual([true, undefined, false]);
  });
});
