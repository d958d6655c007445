import type { AttemptContext } from '../model/index.ts';
import type { Logger } from '../observability/index.ts';
import { CoreApi } from './client/core-api.ts';
import type { KubeConnection } from './client/kube-connection.ts';
import { kubeError } from './run-api.ts';

const DEFAULT_TTL_MS = 60_000;
const MAX_ENTRIES = 10_000;

/**
 * A namespace's labels (`get` namespaces), for subject policies that select namespaces by label.
 * Answers are kept for `ttlMs` (default 60 s): a relabelled namespace takes effect within that.
 * A namespace that cannot be read (404, 403) has no labels, so label rules do not apply to it:
 * the safe direction. Other failures throw a retryable ObserverError('kube').
 */
export class NamespaceLabels {
  readonly #api: Pick<CoreApi, 'readNamespace'>;
  readonly #logger: Logger;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #cache = new Map<string, { at: number; labels: Readonly<Record<string, string>> }>();

  constructor(options: {
    connection?: KubeConnection;
    api?: Pick<CoreApi, 'readNamespace'>;
    logger: Logger;
    ttlMs?: number;
    now?: () => number;
  }) {
    const api = options.api ?? (options.connection && new CoreApi(options.connection));
    if (!api) throw new TypeError('NamespaceLabels needs a connection or an api');
    this.#api = api;
    this.#logger = options.logger;
    this.#ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
    this.#now = options.now ?? Date.now;
  }

  async get(namespace: string, context?: AttemptContext): Promise<Readonly<Record<string, string>>> {
    const hit = this.#cache.get(namespace);
    if (hit && this.#now() - hit.at < this.#ttlMs) return hit.labels;
    let labels: Readonly<Record<string, string>>;
    try {
      labels = { ...(await this.#api.readNamespace({ name: namespace, context })).metadata?.labels };
    } catch (err) {
      const error = kubeError(`reading Namespace ${namespace} for its labels`, err);
      if (error.retryable) throw error;
      this.#logger.warn(
        { namespace, err: error.message },
        'namespace labels unreadable; label rules do not apply',
      );
      labels = {};
    }
    this.#cache.delete(namespace);
    this.#cache.set(namespace, { at: this.#now(), labels });
    if (this.#cache.size > MAX_ENTRIES) this.#cache.delete(this.#cache.keys().next().value as string);
    return labels;
  }
}
