import { ObserverError } from '../errors.ts';

/**
 * Fault injection, FOR TESTS ONLY: the environment variable `PROVENANCE_OBSERVER_FAULT`, read once
 * at start (`provenance-observer run`). Unset (always, in a deployment): no effect at all.
 *
 * - `kill-after-push`: the process SIGKILLs itself after the first run's attestation is stored in
 *   every backend (OCI layers pushed, annotations written) and before the index records it — the
 *   crash window between the push and the index write (issue: exactly once across crashes).
 */
export type FaultHook = 'kill-after-push';

export const FAULT_ENV = 'PROVENANCE_OBSERVER_FAULT';

export function faultHookFromEnv(env: NodeJS.ProcessEnv = process.env): FaultHook | undefined {
  const value = env[FAULT_ENV];
  if (value === undefined || value === '') return undefined;
  if (value === 'kill-after-push') return value;
  throw new ObserverError(`${FAULT_ENV}: unknown fault "${value}" (test-only; allowed: kill-after-push)`, {
    code: 'config_invalid',
    retryable: false,
  });
}
