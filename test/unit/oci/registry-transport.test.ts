import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BodyTooLarge,
  EncodedBody,
  HostPolicy,
  HostRefused,
  readCapped,
  registryTransport,
} from '../../../src/oci/index.ts';

/** A loopback server answering gzip whatever was asked, recording Accept-Encoding and every request. */
let server: Server;
let port: number;
const seen: { path: string; acceptEncoding?: string }[] = [];
let sentLarge = 0;
const closed: string[] = [];
let connections = 0;
beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({ path: req.url ?? '', acceptEncoding: req.headers['accept-encoding'] });
    res.on('close', () => closed.push(req.url ?? ''));
    if (req.url === '/redirect') res.writeHead(307, { location: 'http://127.0.0.2:1/x' }).end();
    else if (req.url === '/large') {
      res.writeHead(200);
      const chunk = Buffer.alloc(64 * 1024);
      const pump = () => {
        while (!res.destroyed && sentLarge < 64 * 1024 * 1024 && res.write(chunk)) sentLarge += chunk.length;
      };
      res.on('drain', pump);
      pump();
    } else res.writeHead(200, { 'content-encoding': 'gzip' }).end(gzipSync(Buffer.from('{"plain":true}')));
  });
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => server.close());

describe('registryTransport', () => {
  it('returns the body exactly as sent: no decompression, no redirect followed', async () => {
    const send = registryTransport();
    const res = await send(new URL(`http://127.0.0.1:${port}/gz`), {
      headers: { 'accept-encoding': 'identity' },
    });
    const bytes = new Uint8Array(await new Response(res.body).arrayBuffer());
    expect([bytes[0], bytes[1]]).toEqual([0x1f, 0x8b]); // still gzip
    expect(res.headers.get('content-encoding')).toBe('gzip');
    expect(seen.at(-1)?.acceptEncoding).toBe('identity');
    const redirect = await send(new URL(`http://127.0.0.1:${port}/redirect`), {});
    expect(redirect.status).toBe(307);
  });

  it('keeps the connection after a HEAD (not a connection per existence check)', async () => {
    const send = registryTransport();
    const before = connections;
    for (let i = 0; i < 10; i++) {
      const head = await send(new URL(`http://127.0.0.1:${port}/gz`), { method: 'HEAD' });
      expect(head.status).toBe(200);
    }
    // undici waits one event-loop turn before reusing a socket, so back-to-back requests may use two
    expect(connections - before).toBeLessThanOrEqual(2);
  });

  it('stops reading a large body when the reader cancels, and HEAD answers end cleanly', async () => {
    const send = registryTransport();
    const closedBefore = closed.length;
    const res = await send(new URL(`http://127.0.0.1:${port}/large`), {});
    await expect(readCapped(res, 4 * 1024 * 1024)).rejects.toBeInstanceOf(BodyTooLarge);
    const unread = await send(new URL(`http://127.0.0.1:${port}/gz`), {});
    await expect(readCapped(unread, 1024)).rejects.toBeInstanceOf(EncodedBody); // cancelled before any read
    // once the server saw both answers end, any late chunk would already have been pushed (and thrown)
    for (const deadline = Date.now() + 5000; closed.length < closedBefore + 2; )
      if (Date.now() > deadline) throw new Error('the server never saw the answers end');
      else await new Promise((r) => setImmediate(r));
    expect(sentLarge).toBeLessThan(16 * 1024 * 1024); // the sender was stopped (socket closed)
    const head = await send(new URL(`http://127.0.0.1:${port}/gz`), { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body).toBeNull();
  });

  it('connects only to checked addresses: a name resolving to loopback is refused unless listed', async () => {
    const resolve = async () => [{ address: '127.0.0.1', family: 4 }];
    const before = seen.length;
    const refused = registryTransport({ policy: new HostPolicy({ resolve }) });
    const err = await refused(new URL(`http://rebind.example:${port}/x`), {}).catch((e: unknown) => e);
    let cause: unknown = err;
    while (cause && !(cause instanceof HostRefused)) cause = (cause as { cause?: unknown }).cause;
    expect(cause).toBeInstanceOf(HostRefused);
    await expect(refused(new URL(`http://127.0.0.1:${port}/x`), {})).rejects.toBeInstanceOf(HostRefused);
    expect(seen.length).toBe(before); // nothing reached the server
    const allowed = registryTransport({ policy: new HostPolicy({ allowed: ['127.0.0.1'], resolve }) });
    expect((await allowed(new URL(`http://rebind.example:${port}/x`), {})).status).toBe(200);
    expect(seen.length).toBe(before + 1);
  });
});
