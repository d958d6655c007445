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

  constructor(options: { connection: KubeConnection; namespace: string; name: string }) {
    this.#api = new CoreApi(options.connection);
    this.#at = { namespace: options.namespace, name: options.name };
  }

  /** Writes `note` unless the ConfigMap already holds it; returns whether it wrote. */
  async publish(note: string): Promise<boolean> {
    try {
      const current = await this.#api.readNamespacedConfigMap(this.#at);
      if (current.data?.[CHECKPOINT_ENTRY] === note) return false;
      await this.#api.patchNamespacedConfigMap({ ...this.#at, body: { data: { [CHECKPOINT_ENTRY]: note } } });
      return true;
    } catch (err) {
      const status = err instanceof KubeApiError ? err.code : undefined;
      const why =
        status === 404
          ? 'not found (the install creates it: deploy/base/26-decision-log-checkpoint.yaml)'
          : status === 403
            ? 'forbidden (the observer needs get and patch on it)'
            : status === undefined
              ? (err as Error).message
              : `HTTP ${status}`;
      throw new ObserverError(`publishing the checkpoint to ConfigMap ${this.describe()}: ${why}`, {
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
