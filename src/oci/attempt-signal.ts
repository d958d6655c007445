import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The abort signal of the attestation attempt a registry call belongs to (its deadline,
 * reconcile/deadline.ts), carried along the async call chain rather than through every client
 * method: RegistryHttp aborts each request with it (the socket is closed, so a slow registry
 * holds no worker past the deadline), token fetches included, and the tag appender stops its loop.
 */
const scope = new AsyncLocalStorage<AbortSignal>();

/** Runs `fn` with `signal` as the attempt signal of every registry call made inside it. */
export function withAttemptSignal<T>(signal: AbortSignal | undefined, fn: () => T): T {
  return signal ? scope.run(signal, fn) : scope.exit(fn);
}

/** The attempt signal of the calling code, if it runs inside an attempt. */
export function attemptSignal(): AbortSignal | undefined {
  return scope.getStore();
}

/**
 * A signal that aborts once every one of `signals` has (work shared by several attempts, such as a
 * batched tag append, goes on while one of them still waits for it); undefined when any one of
 * them is undefined (someone waits without a deadline).
 */
export function allAborted(signals: readonly (AbortSignal | undefined)[]): AbortSignal | undefined {
  if (signals.length === 0 || signals.some((s) => s === undefined)) return undefined;
  const all = signals as AbortSignal[];
  if (all.length === 1) return all[0];
  const controller = new AbortController();
  const check = () => {
    if (all.every((s) => s.aborted)) controller.abort(all[0].reason);
  };
  for (const s of all) s.addEventListener('abort', check, { once: true });
  check();
  return controller.signal;
}
