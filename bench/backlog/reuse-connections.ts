import type { KubeConfig } from '@kubernetes/client-node';
import type { TokenBucket } from '../../src/kube/index.ts';

type RequestContext = Parameters<KubeConfig['applySecurityAuthentication']>[0];
/** client-node's private per-request dispatcher factory (config.js createDispatcher) */
type DispatcherFactory = { createDispatcher: (...args: unknown[]) => unknown };

/**
 * The bench's own client-node clients (seeding runs, the patch limit): makes every API client
 * made from `kc` share one connection pool, as the observer's KubeConnection does. client-node 2.0 builds a new
 * undici Agent for every request (`KubeConfig.applySecurityAuthentication` → `createDispatcher`),
 * so each call opens a new TLS connection with a new secure context: measured as the largest CPU
 * cost of the observer (a handshake per apiserver request, for the apiserver too). Here the first
 * dispatcher built is kept and handed out for every later request (no Agent is built per request).
 *
 * With `limit`, every request (and every watch start) first takes a token: the client-side rate
 * limit of `controller.kube-api-qps` / `controller.kube-api-burst`.
 *
 * Credentials still apply per request (bearer tokens, including a rotated projected token, are
 * headers); a kubeconfig whose client certificate rotates needs a restart, as before.
 * Returns `kc`, changed in place.
 */
export function reuseConnections(kc: KubeConfig, options: { limit?: TokenBucket } = {}): KubeConfig {
  const factory = kc as unknown as DispatcherFactory;
  const create = factory.createDispatcher.bind(kc);
  let shared: unknown;
  let built = false;
  factory.createDispatcher = (...args: unknown[]) => {
    if (!built) {
      shared = create(...args);
      built = true;
    }
    return shared;
  };
  const { limit } = options;
  if (limit) {
    const apply = kc.applySecurityAuthentication.bind(kc);
    kc.applySecurityAuthentication = async (context: RequestContext) => {
      await limit.take();
      await apply(context);
    };
  }
  return kc;
}
