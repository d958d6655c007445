import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { KubeApiError, KubeConnection, type WatchEvent, watch } from '../../../src/kube/index.ts';
import { kubeAccessWithToken } from '../../env/index.ts';

// A stand-in apiserver whose watch answers each test scripts (the real apiserver's watch is covered
// by the integration tests that start the observer).
describe('watch', () => {
  let cleanup: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanup) await c();
    cleanup = [];
  });

  async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void) {
    const urls: URL[] = [];
    const headers: IncomingMessage['headers'][] = [];
    const server = createServer((req, res) => {
      urls.push(new URL(req.url ?? '/', 'http://x'));
      headers.push(req.headers);
      handler(req, res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const connection = new KubeConnection({
      access: kubeAccessWithToken(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, 'tok'),
    });
    cleanup.push(
      () => server.closeAllConnections(),
      () => server.close(),
      () => connection.close(),
    );
    return { connection, urls, headers };
  }

  it('streams events split across writes, in order, and resolves closed when the server ends', async () => {
    const { connection, urls, headers } = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"type":"ADDED","object":{"n":1}}\n{"type":"MOD');
      setImmediate(() => {
        res.write('IFIED","object":{"n":2}}\n');
        res.end('{"type":"ERROR","object":{"kind":"Status","code":410}}\n');
      });
    });
    const events: WatchEvent[] = [];
    let opened = 0;
    const end = await watch(connection, '/apis/tekton.dev/v1/taskruns', (e) => events.push(e), {
      query: { resourceVersion: '7', allowWatchBookmarks: true, timeoutSeconds: 300 },
      onOpen: () => opened++,
    });
    expect(end).toBe('closed');
    expect(opened).toBe(1);
    expect(events).toEqual([
      { type: 'ADDED', object: { n: 1 }, bytes: 7 },
      { type: 'MODIFIED', object: { n: 2 }, bytes: 7 },
      { type: 'ERROR', object: { kind: 'Status', code: 410 }, bytes: 28 },
    ]);
    expect(Object.fromEntries(urls[0]?.searchParams ?? [])).toEqual({
      resourceVersion: '7',
      allowWatchBookmarks: 'true',
      timeoutSeconds: '300',
      watch: 'true',
    });
    expect(headers[0]?.authorization).toBe('Bearer tok');
  });

  it('a body that is not JSON ends the watch with an error (the watcher resumes it)', async () => {
    const { connection } = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"type":"ADDED","object":{"n":1}}\nnot json\n');
    });
    const events: WatchEvent[] = [];
    await expect(watch(connection, '/apis/tekton.dev/v1/taskruns', (e) => events.push(e))).rejects.toThrow();
    expect(events).toHaveLength(1);
  });

  it('rejects with the status and Status message when the server refuses the watch (410 Gone)', async () => {
    const { connection } = await serve((_req, res) => {
      res.writeHead(410, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', code: 410, message: 'too old resource version: 1 (5)' }));
    });
    const err = await watch(connection, '/api/v1/pods', () => {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect(err).toMatchObject({ code: 410, message: 'HTTP 410: too old resource version: 1 (5)' });
  });

  it('ends a silent watch as idle, and an aborted one as aborted', async () => {
    const { connection } = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"type":"BOOKMARK","object":{}}\n'); // then silence
    });
    const events: WatchEvent[] = [];
    expect(await watch(connection, '/x', (e) => events.push(e), { idleTimeoutMs: 200 })).toBe('idle');
    expect(events.map((e) => e.type)).toEqual(['BOOKMARK']);
    const abort = new AbortController();
    const running = watch(connection, '/x', () => abort.abort(), { signal: abort.signal });
    expect(await running).toBe('aborted');
  });

  it('rejects when the connection is reset mid-stream', async () => {
    const { connection } = await serve((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"type":"ADDED","object":{}}\n', () => req.socket.destroy());
    });
    await expect(watch(connection, '/x', () => {})).rejects.toThrow();
  });
});
