import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import { HostPolicy, HostRefused } from '../../../src/oci/index.ts';

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
