/**
 * Which lane a piece of work belongs to: `live` for runs seen completing, `backlog` for runs found
 * by a list. Shared limits (the apiserver token bucket, per-registry-host request slots) serve
 * waiting live requests first, so a fresh run does not queue behind a backlog's requests
 * (Chains #979).
 */
export type Lane = 'live' | 'backlog';

/**
 * What the work under way belongs to, passed down explicitly (as `fetch` takes a `signal`, as Go
 * passes a `context.Context`): the controller makes one per reconcile with the key's lane, the
 * reconciler adds the attempt's deadline, and the attestor hands it to checks and storage, which
 * hand it to the registry and kube clients. Code outside any attempt (start-up, the API) passes
 * none: NO_ATTEMPT's defaults apply (live, no signal).
 */
export interface AttemptContext {
  /** aborts when the attempt's deadline passes: requests in flight are aborted, loops stop */
  signal?: AbortSignal;
  lane: Lane;
  /** when the attempt's deadline passes (epoch ms), for work that plans around it */
  deadline?: number;
}

/** The context of work outside any attempt: the live lane, no deadline. */
export const NO_ATTEMPT: AttemptContext = Object.freeze({ lane: 'live' });
