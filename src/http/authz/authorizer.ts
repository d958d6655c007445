import type { RunKind } from '../../tekton/index.ts';

/**
 * The lookup API's access role: who is calling (authentication) and may they read a namespace's
 * runs of one kind (authorisation). The Kubernetes implementation asks the apiserver (TokenReview,
 * SubjectAccessReview), so the API grants exactly what `kubectl get taskruns -n <ns>` would.
 *
 * Deny by default: `authenticate` answers undefined for any token it cannot vouch for, and
 * `canGetRuns` false unless access is explicitly allowed. Both throw (ObserverError code `kube`,
 * retryable) only when no decision could be made at all, e.g. the apiserver is unreachable;
 * callers must then refuse the request, never allow it.
 */

/** An authenticated caller, as the apiserver's TokenReview describes them. */
export interface Caller {
  user: string;
  groups: string[];
  uid?: string;
  /** extra attributes (e.g. service account token scopes), passed through to access reviews */
  extra?: Record<string, string[]>;
}

export interface Authorizer {
  /** The caller a bearer token belongs to, or undefined when it is not valid. Never logs the token. */
  authenticate(token: string): Promise<Caller | undefined>;
  /**
   * May `caller` `get` tekton.dev `taskruns`/`pipelineruns` in `namespace`? Takes the whole Caller,
   * not just the user name, because RBAC bindings to groups (system:masters, system:serviceaccounts)
   * only apply when the review carries the groups.
   */
  canGetRuns(caller: Caller, namespace: string, kind: RunKind): Promise<boolean>;
}
