/** The cap of every retry spacing of the service (a run's attempts, the controller's, the watch's): 5 min. */
export const RETRY_MAX_MS = 300_000;

export interface BackoffOptions {
  /** first delay's ceiling; default 1 s */
  baseMs?: number;
  /** the cap; default 5 min */
  maxMs?: number;
  /** injected randomness in [0, 1), so tests are deterministic; default Math.random */
  random?: () => number;
}

/**
 * The one retry backoff of the service: jittered exponential, base·2^n capped at max, with
 * "equal jitter" (half fixed, half random) so many retrying streams do not synchronise. Counts
 * attempts per key (a run key in the controller; one stream's default key in the watcher), so a
 * key's delay grows with its own failures only; `reset(key)` after a success.
 */
export class Backoff {
  readonly #o: Required<BackoffOptions>;
  readonly #attempts = new Map<string, number>();

  constructor(options: BackoffOptions = {}) {
    this.#o = { baseMs: 1000, maxMs: RETRY_MAX_MS, random: Math.random, ...options };
  }

  /** The delay before the key's next attempt; each call grows it. */
  next(key = ''): number {
    const attempt = this.#attempts.get(key) ?? 0;
    this.#attempts.set(key, attempt + 1);
    return delayFor(attempt, this.#o);
  }

  /** Forgets the key's failures (it succeeded, or will not be retried). */
  reset(key = ''): void {
    this.#attempts.delete(key);
  }
}

/** Delay before retry number `attempt` (0-based). */
export function delayFor(
  attempt: number,
  o: { baseMs: number; maxMs: number; random: () => number },
): number {
  const ceiling = Math.min(o.maxMs, o.baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (ceiling / 2) * o.random());
}
