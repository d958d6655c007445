import type { AttemptContext } from '../model/index.ts';
import { CoreApi } from './client/core-api.ts';
import type { PodObject } from './client/core-objects.ts';
import { KubeApiError } from './client/kube-api-error.ts';
import type { KubeConnection } from './client/kube-connection.ts';
import { kubeError } from './run-api.ts';

/**
 * Reads one Pod with `get` (deploy/ grants get on pods cluster-wide, nothing more): the Pod a
 * TaskRun ran in, for the execution check. Undefined when it does not exist (pruned). Other
 * failures are ObserverError('kube'), retryable for 5xx/429/network, naming the Pod.
 */
export class PodReader {
  readonly #api: Pick<CoreApi, 'readNamespacedPod'>;

  constructor(options: { connection: KubeConnection } | { api: Pick<CoreApi, 'readNamespacedPod'> }) {
    this.#api = 'api' in options ? options.api : new CoreApi(options.connection);
  }

  async get(namespace: string, name: string, context?: AttemptContext): Promise<PodObject | undefined> {
    try {
      return await this.#api.readNamespacedPod({ namespace, name, context });
    } catch (err) {
      if (err instanceof KubeApiError && err.code === 404) return undefined;
      throw kubeError(`reading Pod ${namespace}/${name}`, err);
    }
  }
}
