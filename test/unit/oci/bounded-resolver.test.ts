import type { LookupAddress } from 'node:dns';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ObserverError } from '../../../src/errors.ts';
import {
  type AddressResolver,
  BoundedResolver,
  DnsTimeout,
  HostPolicy,
  RegistryClient,
} from '../../../src/oci/index.ts';

/** A DNS that answers every name at once, but never answers for `slow.example`. */
class FakeDns implements AddressResolver {
  readonly asked: string[] = [];
  inFlight = 0;
  maxInFlight = 0;
  readonly answers: Record<string, string[] | { code: string }>;
  constructor(answers: Record<string, string[] | { code: string }> = {}) {
    this.answers = answers;
  }

  resolve4(host: string): Promise<string[]> {
    return this.#answer(host, 4);
  }
  resolve6(host: string): Promise<string[]> {
    return this.#answer(host, 6);
  }
  async #answer(host: string, family: 4 | 6): Promise<string[]> {
    this.asked.push(`${host}/${family}`);
    if (host === 'slow.example') {
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      return new Promise(() => {});
    }
    const answer = this.answers[host];
    if (answer === undefined)
      throw Object.assign(new Error(`queryA ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    if (!Array.isArray(answer)) throw Object.assign(new Error(`query ${answer.code} ${host}`), answer);
    return answer.filter((a) => (family === 4 ? !a.includes(':') : a.includes(':')));
  }
}

const noSystem = async (host: string): Promise<LookupAddress[]> => {
  throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
};

describe('BoundedResolver', () => {
  afterEach(() => vi.useRealTimers());

  it('resolves other hosts while one host hangs, and times the hanging one out with a coded error naming it', async () => {
    vi.useFakeTimers();
    const dns = new FakeDns({ 'a.example': ['203.0.113.7', '2001:db8::7'], 'b.example': ['198.51.100.9'] });
    const resolver = new BoundedResolver({ resolver: dns, timeoutMs: 5_000, perHost: 2, system: noSystem });
    const slow = [1, 2, 3].map(() => resolver.resolve('slow.example'));
    const outcomes = slow.map((p) =>
      p.then(
        () => 'resolved',
        (e: unknown) => e,
      ),
    );
    // the hanging host holds none of the others up
    expect(await resolver.resolve('a.example')).toEqual([
      { address: '203.0.113.7', family: 4 },
      { address: '2001:db8::7', family: 6 },
    ]);
    expect(await resolver.resolve('b.example')).toEqual([{ address: '198.51.100.9', family: 4 }]);
    // at most perHost lookups of one host in flight (each asks both families)
    expect(dns.maxInFlight).toBe(4);
    await vi.advanceTimersByTimeAsync(5_000);
    const [first, second] = await Promise.all(outcomes.slice(0, 2));
    for (const err of [first, second]) {
      expect(err).toBeInstanceOf(DnsTimeout);
      expect(err).toMatchObject({ code: 'dns_timeout', host: 'slow.example' });
      expect((err as Error).message).toContain('slow.example');
    }
    // the third waited its turn behind the first two, then had its own timeout
    await vi.advanceTimersByTimeAsync(5_000);
    expect(await outcomes[2]).toBeInstanceOf(DnsTimeout);
  });

  it('answers IP literals and localhost without asking anyone', async () => {
    const dns = new FakeDns();
    const resolver = new BoundedResolver({ resolver: dns, system: noSystem });
    expect(await resolver.resolve('192.0.2.1')).toEqual([{ address: '192.0.2.1', family: 4 }]);
    expect(await resolver.resolve('::1')).toEqual([{ address: '::1', family: 6 }]);
    expect(await resolver.resolve('LocalHost.')).toEqual([
      { address: '127.0.0.1', family: 4 },
      { address: '::1', family: 6 },
    ]);
    expect(await resolver.resolve('registry.localhost')).toHaveLength(2);
    expect(dns.asked).toEqual([]);
  });

  it('asks the system resolver (/etc/hosts) only for names DNS says do not exist, one at a time', async () => {
    vi.useFakeTimers();
    const dns = new FakeDns({ 'broken.example': { code: 'ESERVFAIL' } });
    const system: string[] = [];
    const hosts = new BoundedResolver({
      resolver: dns,
      timeoutMs: 1_000,
      system: async (host) => {
        system.push(host);
        if (host === 'hangs.internal-alias') return new Promise(() => {});
        return [{ address: '10.1.2.3', family: 4 }];
      },
    });
    expect(await hosts.resolve('registry.hosts-file')).toEqual([{ address: '10.1.2.3', family: 4 }]);
    // DNS failing is not "no such name": no system lookup, the error is DNS's
    await expect(hosts.resolve('broken.example')).rejects.toMatchObject({ code: 'ESERVFAIL' });
    expect(system).toEqual(['registry.hosts-file']);
    // a system lookup that hangs holds its one thread until it returns: the next waits, and times out
    const hung = hosts.resolve('hangs.internal-alias').catch((e: unknown) => e);
    const next = hosts.resolve('other.hosts-file').catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await hung).toBeInstanceOf(DnsTimeout);
    expect(await next).toMatchObject({ code: 'dns_timeout', host: 'other.hosts-file' });
    expect(system).toEqual(['registry.hosts-file', 'hangs.internal-alias']);
  });

  it('a registry whose name does not resolve in time fails with registry_dns_timeout, naming the host', async () => {
    const dns = new FakeDns();
    const policy = new HostPolicy({
      resolve: new BoundedResolver({ resolver: dns, timeoutMs: 50, system: noSystem }).resolve,
    });
    const client = new RegistryClient({ registry: 'slow.example:5000', policy });
    const err = await client.headManifest('app', 'v1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ObserverError);
    expect(err).toMatchObject({ retryable: true });
    expect((err as ObserverError).message).toContain('DNS lookup of slow.example timed out');
    expect((err as ObserverError).publicMessage).toContain('registry_dns_timeout');
  });

  it('keeps localhost working through a host policy that allows it', async () => {
    const policy = new HostPolicy({ allowed: ['localhost'] });
    expect(await policy.addresses('localhost')).toEqual([
      { address: '127.0.0.1', family: 4 },
      { address: '::1', family: 6 },
    ]);
  });
});
