import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import { embeddedV4, HostPolicy, HostRefused } from '../../../src/oci/index.ts';

const resolvingTo =
  (...addresses: string[]) =>
  async (): Promise<LookupAddress[]> =>
    addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

describe('HostPolicy', () => {
  it('refuses IP literals in loopback, private, link-local, CGNAT, ULA and reserved ranges', () => {
    const policy = new HostPolicy();
    for (const host of [
      '127.0.0.1',
      '127.0.0.2',
      '10.96.0.1',
      '172.16.5.4',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '224.0.0.1',
      '[::1]',
      '::',
      'fd00::1',
      'fe80::1',
      '::ffff:127.0.0.1',
      '[::ffff:7f00:1]',
    ])
      expect(() => policy.checkHost(host), host).toThrow(HostRefused);
    for (const host of ['8.8.8.8', '140.82.112.3', '2606:4700::1111'])
      expect(() => policy.checkHost(host)).not.toThrow();
  });

  it.each([
    ['this network 0.0.0.0/8', '0.1.2.3'],
    ['CGNAT 100.64.0.0/10', '100.127.255.254'],
    ['6to4 relay anycast 192.88.99.0/24', '192.88.99.1'],
    ['IPv6 unspecified ::/128', '[::]'],
    ['IPv4-compatible of a private address', '::10.0.0.1'],
    ['IPv4-compatible loopback (::1)', '::1'],
    ['NAT64 of a private address (hex)', '64:ff9b::a00:1'],
    ['IPv4-translated of a private address', '::ffff:0:10.0.0.1'],
    ['IPv4-translated loopback (hex)', '::ffff:0:7f00:1'],
    ['IPv4-translated metadata', '[::ffff:0:169.254.169.254]'],
    ['NAT64 dotted 64:ff9b::/96', '64:ff9b::10.0.0.1'],
    ['NAT64 local-use 64:ff9b:1::/48', '64:ff9b:1::8.8.8.8'],
    ['Teredo 2001::/32', '2001:0:4136:e378:8000:63bf:3fff:fdd2'],
    ['ULA fc00::/7 (fc)', 'fc00::1'],
    ['ULA fc00::/7 (fd)', 'fdff:ffff::1'],
    ['link-local fe80::/10', 'febf::1'],
    ['IPv6 multicast ff00::/8', 'ff02::1'],
    ['IPv4 multicast 224.0.0.0/4', '239.255.255.250'],
    ['IPv4-mapped loopback', '::ffff:127.0.0.1'],
    ['IPv4-mapped private (hex)', '::ffff:a00:1'],
    ['IPv4-mapped metadata', '[::ffff:169.254.169.254]'],
    ['IPv4-mapped CGNAT', '::ffff:100.64.0.1'],
    ['6to4 of a private address', '2002:a00:1::1'],
    ['6to4 of loopback', '2002:7f00:1::'],
    ['6to4 of link-local metadata', '2002:a9fe:a9fe::1'],
  ])('refuses %s (%s)', (_range, host) => {
    expect(() => new HostPolicy().checkHost(host)).toThrow(HostRefused);
  });

  it('judges every embedded-IPv4 form (mapped, translated, compatible, NAT64, 6to4) as its IPv4 address', () => {
    const policy = new HostPolicy({ allowed: ['127.0.0.1'] });
    for (const host of [
      '::ffff:8.8.8.8',
      '2002:808:808::1',
      '::ffff:127.0.0.1',
      '2002:7f00:1::1',
      '::ffff:0:8.8.8.8',
      '::ffff:0:127.0.0.1',
      '::8.8.8.8',
      '64:ff9b::808:808',
      '64:ff9b::127.0.0.1',
    ])
      expect(() => policy.checkHost(host), host).not.toThrow();
    for (const host of ['::ffff:127.0.0.2', '::ffff:0:127.0.0.2', '::127.0.0.2', '64:ff9b::7f00:2'])
      expect(() => policy.checkHost(host), host).toThrow(HostRefused);
    expect(embeddedV4('::ffff:0:a00:1')).toBe('10.0.0.1');
    expect(embeddedV4('64:ff9b::c0a8:101')).toBe('192.168.1.1');
    expect(embeddedV4('::c0a8:101')).toBe('192.168.1.1');
    expect(embeddedV4('::ffff:7f00:1')).toBe('127.0.0.1');
    expect(embeddedV4('2002:c0a8:101::')).toBe('192.168.1.1');
    expect(embeddedV4('2606:4700::1111')).toBeUndefined();
  });

  it('checks the addresses a name resolves to the same way (mapped, 6to4, NAT64)', async () => {
    for (const address of ['::ffff:10.0.0.1', '2002:a00:1::1', '64:ff9b::10.0.0.1', '::ffff:0:10.0.0.1'])
      await expect(
        new HostPolicy({ resolve: resolvingTo(address) }).addresses('r.example'),
        address,
      ).rejects.toBeInstanceOf(HostRefused);
  });

  it('refuses local and cluster names and single labels before any lookup', () => {
    const policy = new HostPolicy({ resolve: resolvingTo('8.8.8.8') });
    for (const host of [
      'localhost',
      'a.localhost',
      'kubernetes',
      'kubernetes.default.svc',
      'x.svc.cluster.local',
      'metadata.google.internal',
    ])
      expect(() => policy.checkHost(host), host).toThrow(HostRefused);
    expect(() => policy.checkHost('ghcr.io')).not.toThrow();
  });

  it('gives the same answer when asked again, also past the hosts it remembers', () => {
    const policy = new HostPolicy();
    for (let round = 0; round < 3; round++) {
      expect(() => policy.checkHost('127.0.0.1')).toThrow(/127\.0\.0\.1 refused: address in a private/);
      expect(() => policy.checkHost('kubernetes.default.svc')).toThrow(/cluster or local name/);
      expect(() => policy.checkHost('ghcr.io')).not.toThrow();
      for (let i = 0; i < 1100; i++) expect(() => policy.checkHost(`r${i}.example.com`)).not.toThrow();
    }
    // each refusal is an error of its own (callers attach it as a cause)
    const errors = [0, 1].map(() => {
      try {
        policy.checkHost('10.0.0.1');
        return undefined;
      } catch (err) {
        return err;
      }
    });
    expect(errors[0]).toBeInstanceOf(HostRefused);
    expect(errors[1]).toBeInstanceOf(HostRefused);
    expect(errors[0]).not.toBe(errors[1]);
  });

  it('lets listed hosts, addresses and ranges through (a port in the entry is ignored)', async () => {
    const policy = new HostPolicy({ allowed: ['127.0.0.1:5000', '10.1.0.0/16', 'registry.local'] });
    expect(() => policy.checkHost('127.0.0.1')).not.toThrow();
    expect(() => policy.checkHost('127.0.0.2')).toThrow(HostRefused);
    expect(() => policy.checkHost('10.1.2.3')).not.toThrow();
    expect(() => policy.checkHost('10.2.0.1')).toThrow(HostRefused);
    expect(() => policy.checkHost('registry.local')).not.toThrow();
  });

  it('resolves names itself and keeps only allowed addresses; none left is a refusal', async () => {
    const policy = new HostPolicy({ resolve: resolvingTo('10.0.0.5', '93.184.216.34') });
    expect(await policy.addresses('mixed.example')).toEqual([{ address: '93.184.216.34', family: 4 }]);
    const rebinding = new HostPolicy({ resolve: resolvingTo('127.0.0.1', '::1') });
    await expect(rebinding.addresses('rebind.example')).rejects.toBeInstanceOf(HostRefused);
    const allowed = new HostPolicy({ allowed: ['127.0.0.1'], resolve: resolvingTo('127.0.0.1') });
    expect(await allowed.addresses('local.example')).toEqual([{ address: '127.0.0.1', family: 4 }]);
  });

  it('is a net.connect lookup that hands the connection only checked addresses', async () => {
    const policy = new HostPolicy({ resolve: resolvingTo('192.168.0.9', '1.1.1.1') });
    const one = await new Promise((resolve) =>
      policy.lookup('x.example', {}, (err, address, family) => resolve({ err, address, family })),
    );
    expect(one).toEqual({ err: null, address: '1.1.1.1', family: 4 });
    const all = await new Promise((resolve) =>
      policy.lookup('x.example', { all: true }, (_e, list) => resolve(list)),
    );
    expect(all).toEqual([{ address: '1.1.1.1', family: 4 }]);
    const refused = await new Promise((resolve) =>
      new HostPolicy({ resolve: resolvingTo('10.0.0.1') }).lookup('y.example', {}, (err) => resolve(err)),
    );
    expect(refused).toBeInstanceOf(HostRefused);
  });
});
