import {
  KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
} from '@kubernetes/client-node';
import { type KubeAccess, loadKubeConfig } from '../../src/config/index.ts';
import { type Identity, type LocalEnv, loadLocalEnv } from './local-env.ts';

/** The field manager of everything the test environment applies. */
export const FIELD_MANAGER = 'provenance-observer-env';

/** A KubeConfig for `server` with a bearer token; TLS is not verified (local self-signed apiserver). */
export function kubeConfigWithToken(server: string, token: string, user = 'user'): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'local', server, skipTLSVerify: true }],
    users: [{ name: user, token }],
    contexts: [{ name: user, cluster: 'local', user }],
    currentContext: user,
  });
  return kc;
}

/** A KubeConfig acting as one of the environment's identities (env defaults to .local/env/env.json). */
export function kubeConfigFor(identity: Identity, env: LocalEnv = loadLocalEnv()): KubeConfig {
  return kubeConfigWithToken(env.apiserver, env.tokens[identity], identity);
}

/** The observer's own KubeAccess for `server` with a bearer token; TLS is not verified. */
export function kubeAccessWithToken(server: string, token: string): KubeAccess {
  return { server, token: () => token, insecureSkipTlsVerify: true, source: 'test' };
}

/** The observer's own KubeAccess of one of the environment's identities, loaded from its kubeconfig file. */
export function kubeAccessFor(identity: Identity, env: LocalEnv = loadLocalEnv()): KubeAccess {
  return loadKubeConfig({ path: env.kubeconfigs[identity] });
}

/**
 * Server-side apply (force, field manager FIELD_MANAGER). `dryRun: true` sends dryRun=All: the object is
 * validated and admitted but not stored. Resolves to the object as the apiserver returned it.
 */
export async function applyObject(
  kc: KubeConfig,
  obj: KubernetesObject,
  opts: { dryRun?: boolean } = {},
): Promise<KubernetesObject> {
  const client = KubernetesObjectApi.makeApiClient(kc);
  return client.patch(
    obj,
    undefined,
    opts.dryRun ? 'All' : undefined,
    FIELD_MANAGER,
    true,
    PatchStrategy.ServerSideApply,
  );
}

/** The HTTP status of a client-node ApiException, or undefined for other errors. */
export function apiStatus(err: unknown): number | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}
