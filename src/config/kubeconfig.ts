import { KubeConfig } from '@kubernetes/client-node';
import { ObserverError } from '../errors.ts';

/**
 * Loads the Kubernetes client configuration: the file given, else `KUBECONFIG`/`~/.kube/config`,
 * else the in-cluster service account (client-node re-reads the projected token as it rotates).
 */
export function loadKubeConfig(path?: string): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (path) kc.loadFromFile(path);
    else kc.loadFromDefault();
  } catch (err) {
    throw new ObserverError(`loading kubeconfig ${path ?? '(default)'}: ${(err as Error).message}`, {
      code: 'config_invalid',
      retryable: false,
      cause: err,
    });
  }
  if (!kc.getCurrentCluster())
    throw new ObserverError('kubeconfig has no current cluster', {
      code: 'config_invalid',
      retryable: false,
    });
  return kc;
}
