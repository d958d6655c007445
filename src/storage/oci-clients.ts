import { createHash } from 'node:crypto';
import { BoundedCache } from '../cache/index.ts';
import type { AttemptContext } from '../model/index.ts';
import type { Metrics } from '../observability/index.ts';
import {
  CircuitBreakers,
  type CircuitBreakersOptions,
  HostPolicy,
  HostSlots,
  RegistryClient,
  type RegistryFetch,
  registryTransport,
} from '../oci/index.ts';
import type { RunRef } from '../tekton/index.ts';
import type { CredentialSource, RegistryCredentials } from './credentials.ts';

/** Keep at most this many clients (each holds a token cache); the least recently used goes first. */
const MAX_CLIENTS = 256;

/** How the observer talks to tenant-chosen registries (see RegistryClient and HostPolicy). */
export interface RegistryNetworkOptions {
  /** hosts, addresses or CIDR ranges reachable although private; default none (`storage.oci.allowed-private-registries`) */
  allowedPrivate?: string[];
  /** per request; default 30 s */
  requestTimeoutMs?: number;
  /** requests in flight to one registry host at most, live work first (HostSlots); default 16 */
  maxRequestsPerHost?: number;
  /** per-host circuit breaker; defaults in CircuitBreakers */
  breaker?: Pick<CircuitBreakersOptions, 'failureThreshold' | 'coolDownMs'>;
}

/**
 * Registry clients by host and credentials, so Bearer tokens are reused across stores. Keys hold a
 * hash of the credentials, never the credentials themselves. All clients share one host policy,
 * one connection pool (pinned to checked addresses) and one set of circuit breakers.
 */
export class OciClients {
  readonly #credentials?: CredentialSource;
  readonly #insecure: boolean | string[];
  readonly #metrics?: Pick<Metrics, 'registryRequests'> & Partial<Pick<Metrics, 'registryCircuits'>>;
  readonly #fetch: RegistryFetch;
  readonly #policy: HostPolicy;
  readonly #breakers: CircuitBreakers;
  readonly #timeoutMs?: number;
  readonly #clients = new BoundedCache<RegistryClient>({ maxEntries: MAX_CLIENTS });

  constructor(
    options: {
      credentials?: CredentialSource;
      insecure: boolean | string[];
      metrics?: Pick<Metrics, 'registryRequests'> & Partial<Pick<Metrics, 'registryCircuits'>>;
      fetch?: RegistryFetch;
    } & RegistryNetworkOptions,
  ) {
    this.#credentials = options.credentials;
    this.#insecure = options.insecure;
    this.#metrics = options.metrics;
    this.#policy = new HostPolicy({ allowed: options.allowedPrivate ?? [] });
    this.#fetch = new HostSlots({ perHost: options.maxRequestsPerHost ?? 16 }).wrap(
      options.fetch ?? registryTransport({ policy: this.#policy }),
    );
    this.#timeoutMs = options.requestTimeoutMs;
    const gauge = options.metrics?.registryCircuits;
    this.#breakers = new CircuitBreakers({
      ...options.breaker,
      onChange: (counts) => {
        for (const [state, n] of Object.entries(counts)) gauge?.set({ state }, n);
      },
    });
  }

  /** Plain HTTP for this host? (`insecure: true`, or the host is in the allow list) */
  isInsecure(registry: string): boolean {
    return this.#insecure === true || (Array.isArray(this.#insecure) && this.#insecure.includes(registry));
  }

  /**
   * A client for `registry` with the credentials the source allows for `repository` (its path):
   * one object per registry and credentials (while cached), which batching relies on.
   * `context`: the attempt asking (reading a ServiceAccount's Secrets goes in its lane).
   */
  async client(
    run: RunRef,
    registry: string,
    repository?: string,
    context?: AttemptContext,
  ): Promise<RegistryClient> {
    const target = repository === undefined ? undefined : `${registry}/${repository}`;
    const credentials = await this.#credentials?.credentialsFor(run, registry, target, context);
    const key = `${registry}\n${fingerprint(credentials)}`;
    const cached = this.#clients.get(key);
    if (cached) return cached;
    const client = new RegistryClient({
      registry,
      insecure: this.isInsecure(registry),
      isInsecureHost: (host) => this.isInsecure(host),
      credentials,
      metrics: this.#metrics,
      fetch: this.#fetch,
      policy: this.#policy,
      breakers: this.#breakers,
      ...(this.#timeoutMs ? { timeoutMs: this.#timeoutMs } : {}),
    });
    this.#clients.set(key, client);
    return client;
  }
}

function fingerprint(c: RegistryCredentials | undefined): string {
  return c ? createHash('sha256').update(JSON.stringify(c)).digest('hex') : 'anonymous';
}
