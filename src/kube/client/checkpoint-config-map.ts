import { ObserverError } from '../../errors.ts';
import { CoreApi } from './core-api.ts';
import { KubeApiError } from './kube-api-error.ts';
import type { KubeConnection } from './kube-connection.ts';

/** The entry an auditor copies: the newest signed checkpoint note (docs/log.md). */
export const CHECKPOINT_ENTRY = 'checkpoint';

/**
 * Keeps one ConfigMap's `checkpoint` equal to the newest decision log checkpoint, for auditors who
 * copy it with `kubectl get configmap`. RBAC: `get` and `patch` on that ConfigMap by name; the
 * install creates it (deploy/base/26-decision-log-checkpoint.yaml). Only `checkpoint` is written.
 */
export class CheckpointConfigMapWriter {
  readonly #api: CoreApi;
  readonly #at: { namespace: string; name: string };
  readonly #entry: string;
  readonly #what: string;
  readonly #manifest: string;

  /**
   * `entry` (default `checkpoint`), `what` (default `the checkpoint`, for messages) and `manifest`
   * (the deploy/ file that creates it) let the same writer keep another published entry, e.g. the
   * signed subject policy statement's `statement`.
   */
  constructor(options: {
    connection: KubeConnection;
    namespace: string;
    name: string;
    entry?: string;
    what?: string;
    manifest?: string;
  }) {
    this.#api = new CoreApi(options.connection);
    this.#at = { namespace: options.namespace, name: options.name };
    this.#entry = options.entry ?? CHECKPOINT_ENTRY;
    this.#what = options.what ?? 'the checkpoint';
    this.#manifest = options.manifest ?? 'deploy/base/26-decision-log-checkpoint.yaml';
  }

  /** Writes `note` unless the ConfigMap already holds it; returns whether it wrote. */
  async publish(note: string): Promise<boolean> {
    try {
      const current = await this.#api.readNamespacedConfigMap(this.#at);
      if (current.data?.[this.#entry] === note) return false;
      await this.#api.patchNamespacedConfigMap({ ...this.#at, body: { data: { [this.#entry]: note } } });
      return true;
    } catch (err) {
      const status = err instanceof KubeApiError ? err.code : undefined;
      const why =
        status === 404
          ? `not found (the install creates it: ${this.#manifest})`
          : status === 403
            ? 'forbidden (the observer needs get and patch on it)'
            : status === undefined
              ? (err as Error).message
              : `HTTP ${status}`;
      throw new ObserverError(`publishing ${this.#what} to ConfigMap ${this.describe()}: ${why}`, {
        code: 'kube',
        retryable: true,
        cause: err,
      });
    }
  }

  describe(): string {
    return `${this.#at.namespace}/${this.#at.name}`;
  }
}
