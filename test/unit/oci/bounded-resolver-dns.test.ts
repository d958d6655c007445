import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { promises as dns, type LookupAddress } from 'node:dns';
import { type AddressInfo, connect, createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { BoundedResolver, DnsTimeout, HostPolicy } from '../../../src/oci/index.ts';

/**
 * A DNS server on 127.0.0.1 (UDP): A records for the names in `answers` (no AAAA: an empty
 * answer), NXDOMAIN for other names, and no answer at all for the names in `silent` (a tenant's
 * registry host whose DNS hangs). Counts the questions it got, by name.
 */
async function dnsServer(answers: Record<string, string>, silent: Set<string>) {
  const socket: UdpSocket = createSocket('udp4');
  const asked = new Map<string, number>();
  socket.on('message', (query, peer) => {
    const labels: string[] = [];
    let at = 12;
    while (query[at] !== 0) {
      const length = query[at] ?? 0;
      labels.push(query.subarray(at + 1, at + 1 + length).toString());
      at += length + 1;
    }
    const name = labels.join('.').toLowerCase();
    const type = query.readUInt16BE(at + 1);
    const questionEnd = at + 5;
    asked.set(name, (asked.get(name) ?? 0) + 1);
    if (silent.has(name)) return;
    const address = answers[name];
    const records =
      address && type === 1
        ? [
            Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]),
            Buffer.from(address.split('.').map(Number)),
          ]
        : [];
    const header = Buffer.alloc(12);
    header.writeUInt16BE(query.readUInt16BE(0), 0);
    header.writeUInt16BE(address ? 0x8180 : 0x8183, 2); // response, recursion; NOERROR or NXDOMAIN
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(records.length / 2, 6);
    socket.send(
      Buffer.concat([header, query.subarray(12, questionEnd), ...records]),
      peer.port,
      peer.address,
    );
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { port: socket.address().port, asked, close: () => socket.close() };
}

const noSystem = async (host: string): Promise<LookupAddress[]> => {
  throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
};

// Issue 26 item 8: one tenant's registry host whose DNS never answers must not stall lookups of
// any other host. Real c-ares (node:dns Resolver) against a DNS server that black-holes one name,
// through HostPolicy's connect-time lookup as the registry client uses it.
describe('BoundedResolver with c-ares and a DNS server that never answers for one host', () => {
  const closers: (() => void)[] = [];
  afterEach(() => {
    for (const close of closers.splice(0)) close();
  });

  it('connects to other hosts at once while 20 connections to the silent host wait, 2 lookups of it at a time, each timed out naming it', async () => {
    const server = await dnsServer(
      { 'fast.registry.example': '127.0.0.1' },
      new Set(['slow.registry.example']),
    );
    closers.push(server.close);
    const tcp: Server = createServer((s) => s.end());
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    closers.push(() => tcp.close());
    const port = (tcp.address() as AddressInfo).port;
    const cares = new dns.Resolver({ timeout: 1_500, tries: 1 });
    cares.setServers([`127.0.0.1:${server.port}`]);
    const timeoutMs = 1_500;
    const policy = new HostPolicy({
      allowed: ['127.0.0.1'],
      resolve: new BoundedResolver({ resolver: cares, timeoutMs, perHost: 2, system: noSystem }).resolve,
    });
    const open = (host: string) =>
      new Promise<number>((resolve, reject) => {
        const socket = connect({ host, port, lookup: policy.lookup });
        socket.on('connect', () => {
          socket.destroy();
          resolve(Date.now());
        });
        socket.on('error', reject);
      });

    const started = Date.now();
    const slow = Array.from({ length: 20 }, () => open('slow.registry.example').catch((e: unknown) => e));
    const fast = await Promise.all(Array.from({ length: 5 }, () => open('fast.registry.example')));
    // the silent host's lookups hold nothing the others need
    expect(Math.max(...fast) - started).toBeLessThan(timeoutMs / 2);
    // two lookups of the silent host in flight (A and AAAA each), the other 18 waiting their turn
    expect(server.asked.get('slow.registry.example')).toBe(4);
    const first = await slow[0];
    expect(first).toBeInstanceOf(DnsTimeout);
    expect(first).toMatchObject({ code: 'dns_timeout', host: 'slow.registry.example' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(timeoutMs - 50);
  });
});
