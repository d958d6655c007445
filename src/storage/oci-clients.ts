import { createHash } from 'node:crypto';
import { BoundedCache } from '../cache/index.ts';
import type { Metrics } from '../observability/index.ts';
import { RegistryClient } from '../oci/index.ts';
import type { RunRef } from '../tekton/index.ts';
import type { CredentialSource, RegistryCredentials } from './credentials.ts';

/** Keep at most this many clients (each holds a token cache); the least recently used goes first. */
const MAX_CLIENTS = 256;

/**
 * Registry clients by host and credentials, so Bearer tokens are reused across stores. Keys hold a
 * hash of the credentials, never the credentials themselves.
 */
export class OciClients {
  readonly #credentials?: CredentialSource;
  readonly #insecure: boolean | string[];
  readonly #metrics?: Pick<Metrics, 'registryRequests'>;
  readonly #fetch?: typeof fetch;
  readonly #clients = new BoundedCache<RegistryClient>({ maxEntries: MAX_CLIENTS });

  constructor(options: {
    credentials?: CredentialSource;
    insecure: boolean | string[];
    metrics?: Pick<Metrics, 'registryRequests'>;
    fetch?: typeof fetch;
  }) {
    this.#credentials = options.credentials;
    this.#insecure = options.insecure;
    this.#metrics = options.metrics;
    this.#fetch = options.fetch;
  }

  /** Plain HTTP for this host? (`insecure: true`, or the host is in the allow list) */
  isInsecure(registry: string): boolean {
    return this.#insecure === true || (Array.isArray(this.#insecure) && this.#insecure.includes(registry));
  }

  /** A client for `registry` with the credentials the source allows for `repository` (its path). */
  async client(run: RunRef, registry: string, repository?: string): Promise<RegistryClient> {
    const target = repository === undefined ? undefined : `${registry}/${repository}`;
    const credentials = await this.#credentials?.credentialsFor(run, registry, target);
    const key = `${registry}\n${fingerprint(credentials)}`;
    const cached = this.#clients.get(key);
    if (cached) return cached;
    const client = new RegistryClient({
      registry,
      insecure: this.isInsecure(registry),
      credentials,
      metrics: this.#metrics,
      fetch: this.#fetch,
    });
    this.#clients.set(key, client);
    return client;
  }
}

function fingerprint(c: RegistryCredentials | undefined): string {
  return c ? createHash('sha256').update(JSON.stringify(c)).digest('hex') : 'anonymous';
}
