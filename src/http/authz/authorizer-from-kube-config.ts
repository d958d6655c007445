import type { KubeConnection } from '../../kube/index.ts';
import type { Authorizer } from './authorizer.ts';
import { CachedAuthorizer, type CachedAuthorizerOptions } from './cached-authorizer.ts';
import { KubeAuthorizer } from './kube-authorizer.ts';

/** The production Authorizer: apiserver reviews as the observer's identity, cached and bounded. */
export function authorizerFromKubeConfig(
  connection: KubeConnection,
  options: Omit<CachedAuthorizerOptions, 'inner'> & { audiences?: readonly string[] } = {},
): Authorizer {
  const { audiences, ...cache } = options;
  return new CachedAuthorizer({ ...cache, inner: new KubeAuthorizer({ connection, audiences }) });
}
