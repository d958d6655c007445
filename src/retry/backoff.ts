/**
 * Jittered exponential backoff: base·2^n capped at max, with "equal jitter" (half fixed, half
 * random) so many retrying streams do not synchronise. Defaults: base 1 s, max 5 min.
 */
export class Backoff {
  readonly #base: number;
  readonly #max: number;
  readonly #random: () => number;
  #attempt = 0;

  constructor(options: { baseMs?: number; maxMs?: number; random?: () => number } = {}) {
    this.#base = options.baseMs ?? 1000;
    this.#max = options.maxMs ?? 300_000;
    this.#random = options.random ?? Math.random;
  }

  /** The delay before the next attempt; each call grows it. */
  next(): number {
    return delayFor(this.#attempt++, { baseMs: this.#base, maxMs: this.#max, random: this.#random });
  }

  reset(): void {
    this.#attempt = 0;
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
