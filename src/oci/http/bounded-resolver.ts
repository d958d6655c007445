import { promises as dns, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';

/** What the resolver asks of c-ares: node:dns/promises Resolver has it (tests inject slow fakes). */
export interface AddressResolver {
  resolve4(host: string): Promise<string[]>;
  resolve6(host: string): Promise<string[]>;
}

export interface BoundedResolverOptions {
  /** one lookup of a host, both families, at most; default 5 s */
  timeoutMs?: number;
  /** lookups of one host in flight at once; the rest wait their turn (default 2) */
  perHost?: number;
  /** default: a node:dns Resolver (c-ares) with `timeoutMs` per try and 2 tries */
  resolver?: AddressResolver;
  /** for names DNS does not know (/etc/hosts); default dns.lookup (getaddrinfo, libuv's pool) */
  system?: (host: string) => Promise<LookupAddress[]>;
  /** system lookups in flight at once, all hosts together; default 1 */
  systemConcurrency?: number;
}

/** A lookup that did not finish in time: the host is named, the code is stable. */
export class DnsTimeout extends Error {
  readonly code = 'dns_timeout';
  readonly host: string;
  constructor(host: string, ms: number) {
    super(`DNS lookup of ${host} timed out after ${ms} ms (dns_timeout)`);
    this.name = 'DnsTimeout';
    this.host = host;
  }
}

/** Answers of c-ares that mean "DNS has no such name or address" rather than "DNS did not answer". */
const NO_SUCH_NAME = new Set(['ENOTFOUND', 'ENODATA', 'ENONAME']);

/**
 * Host names of registries resolved off libuv's thread pool, with a timeout and a per-host bound.
 * dns.lookup (getaddrinfo) runs on libuv's 4 threads, shared with file I/O, crypto and every other
 * lookup (the PostgreSQL connection's too): a tenant whose registry's DNS answers slowly holds
 * them all and stalls everyone. Here names go to c-ares (node:dns Resolver: asynchronous sockets,
 * no threads), each lookup ends after `timeoutMs` with a DnsTimeout naming the host, and one host
 * has at most `perHost` lookups in flight, so a slow host only waits behind itself.
 *
 * c-ares asks DNS only; it does not read /etc/hosts. So: IP literals are answered as they are;
 * `localhost` and `*.localhost` are loopback without asking anyone (RFC 6761 §6.3 says resolvers
 * should do so, and no DNS server is asked what they mean); and a name DNS says does not exist
 * (a definite answer, not a timeout) is asked of the system resolver, which reads /etc/hosts (Pod
 * hostAliases, test machines). Those system lookups take libuv's threads, so at most
 * `systemConcurrency` of them run at once, each under the same timeout: a tenant can hold one
 * thread, never the pool.
 */
export class BoundedResolver {
  readonly #timeoutMs: number;
  readonly #perHost: number;
  readonly #resolver: AddressResolver;
  readonly #system: (host: string) => Promise<LookupAddress[]>;
  readonly #systemSlots: Slots;
  readonly #hosts = new Map<string, Slots>();

  constructor(options: BoundedResolverOptions = {}) {
    this.#timeoutMs = options.timeoutMs ?? 5_000;
    this.#perHost = Math.max(1, options.perHost ?? 2);
    this.#resolver = options.resolver ?? new dns.Resolver({ timeout: this.#timeoutMs, tries: 2 });
    this.#system = options.system ?? ((host) => dns.lookup(host, { all: true, verbatim: true }));
    this.#systemSlots = new Slots(Math.max(1, options.systemConcurrency ?? 1));
  }

  /** Every address of `host` (IPv4 first); rejects with DnsTimeout, or the resolver's error. */
  readonly resolve = async (host: string): Promise<LookupAddress[]> => {
    const name = host.toLowerCase().replace(/\.$/, '');
    const family = isIP(name);
    if (family) return [{ address: name, family }];
    if (name === 'localhost' || name.endsWith('.localhost'))
      return [
        { address: '127.0.0.1', family: 4 },
        { address: '::1', family: 6 },
      ];
    const slots = this.#hosts.get(name) ?? new Slots(this.#perHost);
    this.#hosts.set(name, slots);
    try {
      return await slots.run(() => this.#withTimeout(name, this.#lookUp(name)));
    } finally {
      if (slots.idle) this.#hosts.delete(name);
    }
  };

  async #lookUp(name: string): Promise<LookupAddress[]> {
    const [v4, v6] = await Promise.allSettled([this.#resolver.resolve4(name), this.#resolver.resolve6(name)]);
    const found = [
      ...(v4.status === 'fulfilled' ? v4.value.map((address) => ({ address, family: 4 })) : []),
      ...(v6.status === 'fulfilled' ? v6.value.map((address) => ({ address, family: 6 })) : []),
    ];
    if (found.length > 0) return found;
    const errors = [v4, v6].flatMap((r) => (r.status === 'rejected' ? [r.reason as { code?: string }] : []));
    // DNS answered and knows no address (or both families are simply absent): /etc/hosts may
    if (errors.every((e) => NO_SUCH_NAME.has(e.code ?? '')))
      return this.#systemSlots.run(() => this.#system(name));
    throw errors.find((e) => !NO_SUCH_NAME.has(e.code ?? ''));
  }

  #withTimeout<T>(host: string, work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DnsTimeout(host, this.#timeoutMs)), this.#timeoutMs);
    });
    // a lookup that answers after its timeout is ignored, its failure too
    work.catch(() => {});
    return Promise.race([work, expired]).finally(() => clearTimeout(timer));
  }
}

/** At most `limit` tasks at once; the rest wait in arrival order. */
class Slots {
  readonly #limit: number;
  #busy = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(limit: number) {
    this.#limit = limit;
  }

  get idle(): boolean {
    return this.#busy === 0 && this.#waiting.length === 0;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#busy < this.#limit) this.#busy++;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = this.#waiting.shift();
      // the slot passes straight to the next waiter
      if (next) next();
      else this.#busy--;
    }
  }
}
