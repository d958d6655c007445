import { ApiException, CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { kubeError } from './run-api.ts';

/**
 * Reads one Pod with `get` (deploy/ grants get on pods cluster-wide, nothing more): the Pod a
 * TaskRun ran in, for the execution check. Undefined when it does not exist (pruned). Other
 * failures are ObserverError('kube'), retryable for 5xx/429/network, naming the Pod.
 */
export class PodReader {
  readonly #api: Pick<CoreV1Api, 'readNamespacedPod'>;

  constructor(options: { kubeConfig: KubeConfig } | { api: Pick<CoreV1Api, 'readNamespacedPod'> }) {
    this.#api = 'api' in options ? options.api : options.kubeConfig.makeApiClient(CoreV1Api);
  }

  async get(namespace: string, name: string): Promise<V1Pod | undefined> {
    try {
      return await this.#api.readNamespacedPod({ namespace, name });
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) return undefined;
      throw kubeError(`reading Pod ${namespace}/${name}`, err);
    }
  }
}
