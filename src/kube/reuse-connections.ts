import type { KubeConfig } from '@kubernetes/client-node';

type RequestContext = Parameters<KubeConfig['applySecurityAuthentication']>[0];
type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

/**
 * Makes every API client made from `kc` share one connection pool. client-node 2.0 builds a new
 * undici Agent for every request (`KubeConfig.applySecurityAuthentication` → `createDispatcher`),
 * so each call opens a new TLS connection with a new secure context: measured as the largest CPU
 * cost of the observer (a handshake per apiserver request, for the apiserver too). Here the first
 * dispatcher is kept and reused; the per-request one is closed unused.
 *
 * Credentials still apply per request (bearer tokens, including a rotated projected token, are
 * headers); a kubeconfig whose client certificate rotates needs a restart, as before.
 * Returns `kc`, changed in place.
 */
export function reuseConnections(kc: KubeConfig): KubeConfig {
  const apply = kc.applySecurityAuthentication.bind(kc);
  let shared: Dispatcher | undefined;
  kc.applySecurityAuthentication = async (context: RequestContext) => {
    await apply(context);
    const fresh = context.getDispatcher();
    if (!fresh) return;
    if (!shared) shared = fresh;
    else if (fresh !== shared) void fresh.close().catch(() => {});
    context.setDispatcher(shared);
  };
  return kc;
}
