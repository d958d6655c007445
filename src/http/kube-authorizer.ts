import { AuthenticationV1Api, AuthorizationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { ObserverError } from '../errors.ts';
import { type RunKind, runPlural } from '../tekton/index.ts';
import type { Authorizer, Caller } from './authorizer.ts';

export interface KubeAuthorizerOptions {
  /** the observer's own identity; its RBAC must allow `create` on tokenreviews and subjectaccessreviews */
  kubeConfig: KubeConfig;
  /** audiences a token must be valid for; default none (the apiserver's own audience) */
  audiences?: string[];
}

/**
 * Authorizer backed by the Kubernetes apiserver: TokenReview to authenticate, SubjectAccessReview
 * for `get` on tekton.dev taskruns/pipelineruns. Uncached: wrap it in CachedAuthorizer.
 * Error messages carry the review kind and HTTP status only, never the token or the response
 * body (a TokenReview response echoes the token).
 */
export class KubeAuthorizer implements Authorizer {
  readonly #authn: AuthenticationV1Api;
  readonly #authz: AuthorizationV1Api;
  readonly #audiences: string[] | undefined;

  constructor(options: KubeAuthorizerOptions) {
    this.#authn = options.kubeConfig.makeApiClient(AuthenticationV1Api);
    this.#authz = options.kubeConfig.makeApiClient(AuthorizationV1Api);
    this.#audiences = options.audiences;
  }

  async authenticate(token: string): Promise<Caller | undefined> {
    const review = await this.#authn
      .createTokenReview({
        body: {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenReview',
          spec: { token, ...(this.#audiences ? { audiences: this.#audiences } : {}) },
        },
      })
      .catch((err: unknown) => {
        throw reviewError('TokenReview', err);
      });
    const status = review.status;
    const username = status?.user?.username;
    if (!status?.authenticated || !username) return undefined;
    const caller: Caller = { user: username, groups: status.user?.groups ?? [] };
    if (status.user?.uid) caller.uid = status.user.uid;
    if (status.user?.extra) caller.extra = status.user.extra;
    return caller;
  }

  async canGetRuns(caller: Caller, namespace: string, kind: RunKind): Promise<boolean> {
    const review = await this.#authz
      .createSubjectAccessReview({
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SubjectAccessReview',
          spec: {
            user: caller.user,
            groups: caller.groups,
            uid: caller.uid,
            extra: caller.extra,
            resourceAttributes: { group: 'tekton.dev', resource: runPlural(kind), verb: 'get', namespace },
          },
        },
      })
      .catch((err: unknown) => {
        throw reviewError(
          `SubjectAccessReview for ${caller.user} on ${runPlural(kind)} in ${namespace}`,
          err,
        );
      });
    return review.status?.allowed === true && review.status.denied !== true;
  }
}

function reviewError(what: string, err: unknown): ObserverError {
  const status = (err as { code?: unknown }).code;
  const detail =
    typeof status === 'number' ? `HTTP ${status}` : err instanceof Error ? err.name : 'request failed';
  return new ObserverError(`${what}: the apiserver could not answer (${detail})`, {
    code: 'kube',
    retryable: true,
    cause: typeof status === 'number' ? undefined : err,
  });
}
