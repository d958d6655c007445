import { ObserverError } from '../../errors.ts';
import { CoreApi } from './core-api.ts';
import { KubeApiError } from './kube-api-error.ts';
import type { KubeConnection } from './kube-connection.ts';

export interface SecretSnapshot {
  resourceVersion: string;
  /** decoded values; never log them */
  data: Record<string, Uint8Array>;
}

/**
 * Reads one Secret with `get` (RBAC grants exactly that, by resourceName). Polling by get keeps
 * the grant minimal: a watch would need list/watch on Secrets.
 */
export class SecretReader {
  readonly #api: CoreApi;
  readonly #namespace: string;
  readonly #name: string;

  constructor(options: { connection: KubeConnection; namespace: string; name: string }) {
    this.#api = new CoreApi(options.connection);
    this.#namespace = options.namespace;
    this.#name = options.name;
  }

  /** The Secret's data, or undefined if it does not exist. Errors name the Secret, never its content. */
  async read(): Promise<SecretSnapshot | undefined> {
    try {
      const secret = await this.#api.readNamespacedSecret({ name: this.#name, namespace: this.#namespace });
      const data: Record<string, Uint8Array> = {};
      for (const [k, v] of Object.entries(secret.data ?? {}))
        data[k] = new Uint8Array(Buffer.from(v, 'base64'));
      for (const [k, v] of Object.entries(secret.stringData ?? {}))
        data[k] ??= new Uint8Array(Buffer.from(v, 'utf8'));
      return { resourceVersion: secret.metadata?.resourceVersion ?? '', data };
    } catch (err) {
      if (err instanceof KubeApiError && err.code === 404) return undefined;
      const status = err instanceof KubeApiError ? `HTTP ${err.code}` : (err as Error).message;
      throw new ObserverError(`reading Secret ${this.#namespace}/${this.#name}: ${status}`, {
        code: 'key_unavailable',
        retryable: true,
      });
    }
  }

  describe(): string {
    return `${this.#namespace}/${this.#name}`;
  }
}
