import type { KubeAccess } from '../../config/index.ts';
import { ObserverError } from '../../errors.ts';
import { KubeApiError, KubeConnection, KubeJson } from '../../kube/index.ts';

/** Where the bearer token for the lookup API comes from. */
export type TokenChoice =
  /** TokenRequest for this ServiceAccount (`kubectl create token <name> -n <ns> --audience …`) */
  | { kind: 'service-account'; namespace: string; name: string; audience: string; seconds: number }
  /** the kubeconfig user's own token, as is: only useful when it was issued for the API's audience */
  | { kind: 'kubeconfig' };

/**
 * A bearer token for the lookup API. The API accepts only tokens issued for its audience
 * (`api.audiences`, docs/api.md), so the usual way is a TokenRequest for a ServiceAccount the
 * caller may mint tokens for (RBAC `create` on `serviceaccounts/token`), made with the kubeconfig's
 * credentials; the token is short-lived (`seconds`) and kept in memory only.
 */
export async function apiToken(access: KubeAccess, choice: TokenChoice): Promise<string> {
  switch (choice.kind) {
    case 'kubeconfig': {
      const token = access.token?.();
      if (!token)
        throw new ObserverError(
          `kubeconfig ${access.source} has no token; use --service-account <namespace>/<name> to mint one`,
          { code: 'config_invalid', retryable: false },
        );
      return token;
    }
    case 'service-account':
      return requestToken(access, choice);
    default:
      return choice satisfies never;
  }
}

async function requestToken(
  access: KubeAccess,
  sa: Extract<TokenChoice, { kind: 'service-account' }>,
): Promise<string> {
  const connection = new KubeConnection({ access });
  const path = `/api/v1/namespaces/${encodeURIComponent(sa.namespace)}/serviceaccounts/${encodeURIComponent(sa.name)}/token`;
  try {
    const answer = await new KubeJson(connection).send<{ status?: { token?: string } }>('POST', path, {
      body: {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { audiences: [sa.audience], expirationSeconds: sa.seconds },
      },
    });
    const token = answer?.status?.token;
    if (!token) throw new Error('the answer holds no token');
    return token;
  } catch (err) {
    const why =
      err instanceof KubeApiError
        ? err.code === 403
          ? 'forbidden (you need create on serviceaccounts/token for it)'
          : err.code === 404
            ? 'no such ServiceAccount'
            : `HTTP ${err.code}`
        : (err as Error).message;
    throw new ObserverError(`requesting a token for ServiceAccount ${sa.namespace}/${sa.name}: ${why}`, {
      code: 'kube',
      retryable: false,
      cause: err,
    });
  } finally {
    await connection.close();
  }
}
