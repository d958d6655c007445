import { ObserverError } from '../errors.ts';
import type { AttemptContext } from '../model/index.ts';

/**
 * Runs `work` with a deadline: `work` gets `context` with the deadline added (its time, and a
 * signal that aborts then, or earlier with `context`'s own signal). Past `ms` the returned promise
 * rejects with a retryable ObserverError and the signal is aborted, so the caller (and its worker)
 * stops waiting even when `work` does not honour the signal; whatever `work` still does then is
 * abandoned, its result ignored. `what` names the attempt in the error.
 */
export async function withDeadline<T>(
  context: AttemptContext,
  work: (attempt: AttemptContext) => Promise<T>,
  ms: number,
  what: string,
): Promise<T> {
  const controller = new AbortController();
  const parent = context.signal;
  if (parent?.aborted) controller.abort(parent.reason);
  else parent?.addEventListener('abort', () => controller.abort(parent.reason), { once: true });
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new ObserverError(`${what}: attempt exceeded its deadline of ${ms / 1000} s`, {
        code: 'storage',
        retryable: true,
      });
      controller.abort(error);
      reject(error);
    }, ms);
  });
  const deadline = Math.min(Date.now() + ms, context.deadline ?? Number.POSITIVE_INFINITY);
  const running = work({ ...context, signal: controller.signal, deadline });
  // an abandoned attempt's late failure must not surface as an unhandled rejection
  running.catch(() => {});
  try {
    return await Promise.race([running, expired]);
  } finally {
    clearTimeout(timer);
  }
}
