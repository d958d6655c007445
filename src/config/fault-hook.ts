import { ObserverError } from '../errors.ts';

/**
 * Fault injection, FOR TESTS ONLY: the environment variable `PROVENANCE_OBSERVER_FAULT`, read once
 * at start (`provenance-observer run`). Unset (always, in a deployment): no effect at all.
 *
 * - `kill-after-push`: the process SIGKILLs itself after the first run's attestation is stored in
 *   every backend (OCI layers pushed, annotations written) and before the index records it — the
 *   crash window between the push and the index write (issue: exactly once across crashes).
 * - `stall-signing`: every signature of an attempt waits until the process receives SIGUSR2, then
 *   fails (not retryable), as an HSM session that hung and was reset; signatures asked for after
 *   SIGUSR2 are made as usual. Holds a run's claim for as long as the test wants: the stale
 *   replica of the fencing test (issue 26 item 5, test/integration/replica-fencing.test.ts).
 */
export type FaultHook = 'kill-after-push' | 'stall-signing';

const FAULTS: readonly FaultHook[] = ['kill-after-push', 'stall-signing'];

export const FAULT_ENV = 'PROVENANCE_OBSERVER_FAULT';

export function faultHookFromEnv(env: NodeJS.ProcessEnv = process.env): FaultHook | undefined {
  const value = env[FAULT_ENV];
  if (value === undefined || value === '') return undefined;
  if ((FAULTS as readonly string[]).includes(value)) return value as FaultHook;
  throw new ObserverError(
    `${FAULT_ENV}: unknown fault "${value}" (test-only; allowed: ${FAULTS.join(', ')})`,
    {
      code: 'config_invalid',
      retryable: false,
    },
  );
}
