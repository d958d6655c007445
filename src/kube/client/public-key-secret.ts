import { ObserverError } from '../../errors.ts';
import { CoreApi } from './core-api.ts';
import { KubeApiError } from './kube-api-error.ts';
import type { KubeConnection } from './kube-connection.ts';

/** The entry verifiers read: cosign's `k8s://<namespace>/<name>` takes `cosign.pub`. */
export const PUBLIC_KEY_ENTRY = 'cosign.pub';

/**
 * Keeps one Secret's `cosign.pub` equal to the PEM it is given, the way cosign and Conforma read a
 * public key from `k8s://<namespace>/<name>`. RBAC: `get` and `patch` on that Secret by name; the
 * Secret itself is created by the install (deploy/), so the observer never needs `create` on
 * Secrets. Only `cosign.pub` is written (a merge patch): other entries and labels stay.
 */
export class PublicKeySecretWriter {
  readonly #api: CoreApi;
  readonly #namespace: string;
  readonly #name: string;

  constructor(options: { connection: KubeConnection; namespace: string; name: string }) {
    this.#api = new CoreApi(options.connection);
    this.#namespace = options.namespace;
    this.#name = options.name;
  }

  /** Writes `pem` unless the Secret already holds it; returns whether it wrote. */
  async publish(pem: string): Promise<boolean> {
    const at = { namespace: this.#namespace, name: this.#name };
    const wanted = Buffer.from(pem, 'utf8').toString('base64');
    try {
      const secret = await this.#api.readNamespacedSecret(at);
      if (secret.data?.[PUBLIC_KEY_ENTRY] === wanted) return false;
      await this.#api.patchNamespacedSecret({ ...at, body: { data: { [PUBLIC_KEY_ENTRY]: wanted } } });
      return true;
    } catch (err) {
      throw this.#failure(err);
    }
  }

  describe(): string {
    return `${this.#namespace}/${this.#name}`;
  }

  #failure(err: unknown): ObserverError {
    const status = err instanceof KubeApiError ? err.code : undefined;
    const why =
      status === 404
        ? 'not found (the install creates it: deploy/base/25-public-key.yaml)'
        : status === 403
          ? 'forbidden (the observer needs get and patch on it)'
          : status === undefined
            ? (err as Error).message
            : `HTTP ${status}`;
    return new ObserverError(`publishing public keys to Secret ${this.describe()}: ${why}`, {
      code: 'kube',
      reason: 'public_key_publish_failed',
      retryable: true,
      cause: err,
    });
  }
}
