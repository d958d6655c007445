import { ObserverError } from '../errors.ts';

/**
 * Runs `work` with a deadline: past `ms` the returned promise rejects with a retryable
 * ObserverError and `work`'s signal is aborted, so the caller (and its worker) stops waiting even
 * when `work` does not honour the signal; whatever `work` still does then is abandoned, its result
 * ignored.
 */
export async function withDeadline<T>(
  work: (signal: AbortSignal) => Promise<T>,
  ms: number,
  context: string,
): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new ObserverError(`${context}: attempt exceeded its deadline of ${ms / 1000} s`, {
        code: 'storage',
        retryable: true,
      });
      controller.abort(error);
      reject(error);
    }, ms);
  });
  const running = work(controller.signal);
  // an abandoned attempt's late failure must not surface as an unhandled rejection
  running.catch(() => {});
  try {
    return await Promise.race([running, expired]);
  } finally {
    clearTimeout(timer);
  }
}
