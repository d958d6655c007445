import { promises as dns, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/**
 * Addresses the observer never connects to unless listed: "this network", RFC 1918 private,
 * CGNAT (RFC 6598), loopback, link-local (cloud metadata at 169.254.169.254), IETF protocol
 * assignments, benchmarking, multicast and reserved; IPv6 unspecified, loopback and IPv4-compatible
 * (::/96), ULA (fc00::/7), link- and site-local, multicast, discard and documentation. IPv4-mapped
 * IPv6 addresses (::ffff:a.b.c.d) meet the IPv4 rules (net.BlockList maps them). Cluster service
 * ranges are normally inside these; list others with `denied`. (IANA special-purpose registries.)
 */
const DENIED_V4 = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '224.0.0.0/4',
  '240.0.0.0/4',
];
const DENIED_V6 = ['::/96', '100::/64', '2001:db8::/32', 'fc00::/7', 'fe80::/10', 'fec0::/10', 'ff00::/8'];

/** Names that reach the cluster or the machine itself whatever their addresses. */
const DENIED_NAME = /(^|\.)(localhost|local|internal|svc|cluster\.local)$/;

/** Thrown (also from inside a connection's DNS lookup) when a host or address is refused. */
export class HostRefused extends Error {
  readonly host: string;
  constructor(host: string, why: string) {
    super(`host ${host} refused: ${why}`);
    this.host = host;
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
  /** default: the system resolver (`dns.lookup`, all addresses) */
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

  constructor(options: HostPolicyOptions = {}) {
    for (const entry of options.allowed ?? []) {
      const host = bare(entry.trim().replace(/:\d+$/, ''));
      if (!host) continue;
      if (isIP(host.split('/')[0])) addRange(this.#allowedAddresses, host);
      else this.#allowedNames.add(host);
    }
    for (const cidr of [...DENIED_V4, ...DENIED_V6, ...(options.denied ?? [])]) addRange(this.#denied, cidr);
    this.#resolve = options.resolve ?? ((host) => dns.lookup(host, { all: true, verbatim: true }));
  }

  /** Whether an IP address may be connected to. */
  addressAllowed(address: string): boolean {
    const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    return this.#allowedAddresses.check(address, type) || !this.#denied.check(address, type);
  }

  /** Checks what can be checked without DNS; throws HostRefused. Names are checked again on connect. */
  checkHost(hostname: string): void {
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
