import { ObserverError } from '../../errors.ts';
import { type KubeConnection, KubeJson } from '../../kube/index.ts';
import { type RunKind, runPlural } from '../../tekton/index.ts';
import type { Authorizer, Caller } from './authorizer.ts';

export interface KubeAuthorizerOptions {
  /** the observer's own identity; its RBAC must allow `create` on tokenreviews and subjectaccessreviews */
  connection: KubeConnection;
  /**
   * Audiences a token must be issued for (TokenReview `spec.audiences`); default
   * DEFAULT_AUDIENCES. A token minted for the apiserver (no audience asked for) is then refused, so
   * a token captured from this API is no good against the apiserver, and the other way round.
   */
  audiences?: readonly string[];
}

/** What callers pass to `kubectl create token <sa> --audience …`. */
export const DEFAULT_AUDIENCES: readonly string[] = ['provenance-observer'];

/**
 * Authorizer backed by the Kubernetes apiserver: TokenReview (with our audiences) to authenticate, SubjectAccessReview
 * for `get` on tekton.dev taskruns/pipelineruns. Uncached: wrap it in CachedAuthorizer.
 * Error messages carry the review kind and HTTP status only, never the token or the response
 * body (a TokenReview response echoes the token).
 */
export class KubeAuthorizer implements Authorizer {
  readonly #api: KubeJson;
  readonly #audiences: string[];

  constructor(options: KubeAuthorizerOptions) {
    this.#api = new KubeJson(options.connection);
    this.#audiences = [...(options.audiences ?? DEFAULT_AUDIENCES)];
    if (this.#audiences.length === 0) throw new RangeError('KubeAuthorizer: audiences must not be empty');
  }

  async authenticate(token: string): Promise<Caller | undefined> {
    const review = await this.#api
      .send<TokenReview>('POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
        body: {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenReview',
          spec: { token, audiences: this.#audiences },
        },
      })
      .catch((err: unknown) => {
        throw reviewError('TokenReview', err);
      });
    const status = review.status;
    const username = status?.user?.username;
    if (!status?.authenticated || !username) return undefined;
    // The apiserver answers which of the asked audiences the token is valid for. Require one of
    // ours, as TokenReviewStatus.Audiences' doc asks of clients (k8s.io/api authentication/v1
    // types.go), in case an apiserver ignored spec.audiences.
    if (!status.audiences?.some((a) => this.#audiences.includes(a))) return undefined;
    const caller: Caller = { user: username, groups: status.user?.groups ?? [] };
    if (status.user?.uid) caller.uid = status.user.uid;
    if (status.user?.extra) caller.extra = status.user.extra;
    return caller;
  }

  async canGetRuns(caller: Caller, namespace: string, kind: RunKind): Promise<boolean> {
    const review = await this.#api
      .send<SubjectAccessReview>('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
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

/** authentication.k8s.io/v1 TokenReview, the answer's fields we read. */
interface TokenReview {
  status?: {
    authenticated?: boolean;
    audiences?: string[];
    user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
  };
}

/** authorization.k8s.io/v1 SubjectAccessReview, the answer's fields we read. */
interface SubjectAccessReview {
  status?: { allowed?: boolean; denied?: boolean };
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
