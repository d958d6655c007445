import type { LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { BoundedResolver } from './bounded-resolver.ts';

/**
 * Addresses the observer never connects to unless listed: "this network", RFC 1918 private,
 * CGNAT (RFC 6598), loopback, link-local (cloud metadata at 169.254.169.254), IETF protocol
 * assignments, 6to4 relay anycast, benchmarking, multicast and reserved; IPv6 unspecified,
 * loopback and IPv4-compatible (::/96, deprecated by RFC 4291 §2.5.5.1), NAT64 (64:ff9b::/96 of
 * RFC 6052 and the local-use 64:ff9b:1::/48 of RFC 8215: the gateway reaches whatever IPv4 address
 * is embedded, private ones included; list the prefix in a DNS64 cluster), discard, Teredo
 * (2001::/32, an obfuscated IPv4 inside), documentation, ULA (fc00::/7), link- and site-local and
 * multicast. IPv4-mapped (::ffff:a.b.c.d) and 6to4 (2002:aabb:ccdd::/48, RFC 3056) addresses are
 * judged as the IPv4 address they carry (embeddedV4). Cluster service ranges are normally inside
 * these; list others with `denied`. (IANA IPv4 and IPv6 special-purpose address registries.)
 */
const DENIED_V4 = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.88.99.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '224.0.0.0/4',
  '240.0.0.0/4',
];
const DENIED_V6 = [
  '::/96',
  '64:ff9b::/96',
  '64:ff9b:1::/48',
  '100::/64',
  '2001::/32',
  '2001:db8::/32',
  'fc00::/7',
  'fe80::/10',
  'fec0::/10',
  'ff00::/8',
];

/** The 8 16-bit groups of an IPv6 address (`::` expanded, a trailing dotted quad read). */
function groups(v6: string): number[] {
  let text = v6.replace(/%.*$/, '');
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const part = (x: string) => (x ? x.split(':').map((g) => Number.parseInt(g, 16)) : []);
  const h = part(head);
  const t = tail === undefined ? [] : part(tail);
  return [...h, ...Array(8 - h.length - t.length).fill(0), ...t];
}

/**
 * The IPv4 address an IPv6 address is judged as: the one an IPv4-mapped (::ffff:0:0/96) or a
 * 6to4 (2002::/16) address carries; undefined for any other.
 */
export function embeddedV4(v6: string): string | undefined {
  const g = groups(v6);
  const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return v4(g[6] as number, g[7] as number);
  if (g[0] === 0x2002) return v4(g[1] as number, g[2] as number);
  return undefined;
}

/** Names that reach the cluster or the machine itself whatever their addresses. */
const DENIED_NAME = /(^|\.)(localhost|local|internal|svc|cluster\.local)$/;

/** Thrown (also from inside a connection's DNS lookup) when a host or address is refused. */
export class HostRefused extends Error {
  readonly host: string;
  readonly why: string;
  constructor(host: string, why: string) {
    super(`host ${host} refused: ${why}`);
    this.host = host;
    this.why = why;
    this.name = 'HostRefused';
  }
}

export interface HostPolicyOptions {
  /**
   * Hosts (names), IP addresses or CIDR ranges the observer may reach although they are private
   * (`storage.oci.allowed-private-registries`); a `:port` suffix is ignored. Default: none.
   */
  allowed?: string[];
  /** extra CIDR ranges to refuse, e.g. a cluster service range outside the private ones */
  denied?: string[];
  /**
   * default: a BoundedResolver (c-ares off libuv's thread pool, 5 s timeout, 2 lookups per host at
   * once; /etc/hosts and localhost still answer: see bounded-resolver.ts)
   */
  resolve?: (host: string) => Promise<LookupAddress[]>;
}

function addRange(list: BlockList, cidr: string): void {
  const [net, bits] = cidr.split('/');
  const family = isIP(net);
  if (!family) throw new TypeError(`not an IP address or CIDR range: ${cidr}`);
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (bits === undefined) list.addAddress(net, type);
  else list.addSubnet(net, Number(bits), type);
}

/** Host names whose checkHost answer is kept (one per registry a tenant names, at most this many). */
const CHECKED_HOSTS = 1024;

const bare = (host: string) => host.replace(/^\[(.*)\]$/, '$1').toLowerCase();

/**
 * Where the observer may connect. A host is checked before any connection: IP literals against
 * the ranges, names against the cluster/local suffixes and then every address they resolve to.
 * `lookup` is a net.connect lookup that resolves, drops refused addresses and hands the connection
 * only checked ones, so the address checked is the address connected to (no DNS rebinding window).
 */
export class HostPolicy {
  readonly #allowedNames = new Set<string>();
  readonly #allowedAddresses = new BlockList();
  readonly #denied = new BlockList();
  readonly #resolve: (host: string) => Promise<LookupAddress[]>;
  readonly #checked = new Map<string, true | HostRefused>();

  constructor(options: HostPolicyOptions = {}) {
    for (const entry of options.allowed ?? []) {
      const host = bare(entry.trim().replace(/:\d+$/, ''));
      if (!host) continue;
      if (isIP(host.split('/')[0])) addRange(this.#allowedAddresses, host);
      else this.#allowedNames.add(host);
    }
    for (const cidr of [...DENIED_V4, ...DENIED_V6, ...(options.denied ?? [])]) addRange(this.#denied, cidr);
    this.#resolve = options.resolve ?? new BoundedResolver().resolve;
  }

  /** Whether an IP address may be connected to (one that carries an IPv4 address: as that one). */
  addressAllowed(address: string): boolean {
    const v6 = isIP(address) === 6;
    const v4 = v6 ? embeddedV4(address) : undefined;
    if (v4 !== undefined) return this.addressAllowed(v4);
    const type = v6 ? 'ipv6' : 'ipv4';
    return this.#allowedAddresses.check(address, type) || !this.#denied.check(address, type);
  }

  /**
   * Checks what can be checked without DNS; throws HostRefused. Names are checked again on connect.
   * Every registry request asks, so a host's answer is kept (the policy never changes; a new
   * configuration makes a new policy); at most CHECKED_HOSTS of them, then the memo starts over.
   */
  checkHost(hostname: string): void {
    const known = this.#checked.get(hostname);
    if (known === true) return;
    // a new error each time: callers may attach it as the cause of their own
    if (known) throw new HostRefused(known.host, known.why);
    try {
      this.#check(hostname);
      this.#remember(hostname, true);
    } catch (err) {
      if (err instanceof HostRefused) this.#remember(hostname, err);
      throw err;
    }
  }

  #remember(hostname: string, answer: true | HostRefused): void {
    if (this.#checked.size >= CHECKED_HOSTS) this.#checked.clear();
    this.#checked.set(hostname, answer);
  }

  #check(hostname: string): void {
    const host = bare(hostname);
    if (this.#allowedNames.has(host)) return;
    if (isIP(host)) {
      if (!this.addressAllowed(host)) throw new HostRefused(host, 'address in a private or reserved range');
      return;
    }
    if (!host.includes('.')) throw new HostRefused(host, 'single-label names are not allowed');
    if (DENIED_NAME.test(host.replace(/\.$/, ''))) throw new HostRefused(host, 'cluster or local name');
  }

  /** The addresses of a host that may be connected to; throws HostRefused when there are none. */
  async addresses(hostname: string): Promise<LookupAddress[]> {
    this.checkHost(hostname);
    const host = bare(hostname);
    if (isIP(host)) return [{ address: host, family: isIP(host) }];
    const all = await this.#resolve(host);
    if (this.#allowedNames.has(host)) return all;
    const ok = all.filter((a) => this.addressAllowed(a.address));
    if (!ok.length) throw new HostRefused(host, 'resolves only to private or reserved addresses');
    return ok;
  }

  /** A `lookup` for net/tls.connect (undici Agent `connect.lookup`) that connects only to checked addresses. */
  readonly lookup = (
    hostname: string,
    options: { all?: boolean },
    callback: (err: Error | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    this.addresses(hostname).then(
      (list) => (options.all ? callback(null, list) : callback(null, list[0].address, list[0].family)),
      (err: Error) => callback(err, options.all ? [] : ''),
    );
  };
}
