import { ObserverError } from '../../../src/errors.ts';
import type { Authorizer, Caller } from '../../../src/http/index.ts';
import type { RunKind } from '../../../src/tekton/run-ref.ts';

/**
 * An Authorizer for unit tests: `tokens` maps a token to its caller; `grants` lists
 * "<user> <namespace> <Kind>" triples that are allowed. Counts calls; `fail` makes every review
 * throw as an unreachable apiserver would; `delayMs` holds each review open.
 */
export function fakeAuthorizer(options: {
  tokens: Record<string, Caller>;
  grants: string[];
  delayMs?: number;
}) {
  const state = { authenticateCalls: 0, accessCalls: 0, inFlight: 0, maxInFlight: 0, fail: false };
  const review = async <T>(answer: () => T): Promise<T> => {
    state.inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
    try {
      // simulated apiserver latency that keeps reviews in flight together (maxInFlight), not a wait for state
      if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
      if (state.fail)
        throw new ObserverError('TokenReview: the apiserver could not answer (HTTP 500)', {
          code: 'kube',
          retryable: true,
        });
      return answer();
    } finally {
      state.inFlight--;
    }
  };
  const authorizer = {
    authenticate: (token: string) => {
      state.authenticateCalls++;
      return review(() => options.tokens[token]);
    },
    canGetRuns: (caller: Caller, namespace: string, kind: RunKind) => {
      state.accessCalls++;
      return review(() => options.grants.includes(`${caller.user} ${namespace} ${kind}`));
    },
  } satisfies Authorizer;
  return { authorizer, state };
}
