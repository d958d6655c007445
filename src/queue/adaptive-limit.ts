/**
 * A concurrency limit that follows what the services behind an attempt sustain, after the
 * "gradient2" limiter of Netflix's concurrency-limits (Gradient2Limit.java): the recent attempt
 * time (a short moving average) is compared with the long-run one; while they agree within
 * `tolerance` there is room and the limit grows by about √limit per attempt; when recent attempts
 * take longer, requests are queueing somewhere (apiserver, registry, our own CPU) and the limit
 * shrinks in proportion (to half at most per step). The new limit is blended into the old with
 * `smoothing`, so one slow attempt does not halve it. A failed attempt counts by its duration
 * only: one tenant's failing registry fails fast behind its circuit breaker and must not slow
 * every tenant's backlog, while timeouts count as the slow attempts they are.
 *
 * The long-run average adapts too (a service that became slower for good moves it), and is pulled
 * down quickly when recent attempts are much faster (the queue drained).
 */
export interface AdaptiveLimitOptions {
  /** lowest limit (default 1) */
  min?: number;
  /** highest limit */
  max: number;
  /** starting limit (default min) */
  initial?: number;
  /** recent/long-run attempt time ratio still counted as no queueing (default 1.5) */
  tolerance?: number;
  /** weight of a new limit against the old (default 0.2) */
  smoothing?: number;
  /** attempts in the short average (default 10) and the long-run one (default 200) */
  shortWindow?: number;
  longWindow?: number;
}

export class AdaptiveLimit {
  readonly #min: number;
  readonly #max: number;
  readonly #tolerance: number;
  readonly #smoothing: number;
  readonly #shortWeight: number;
  readonly #longWeight: number;
  #limit: number;
  #shortMs = 0;
  #longMs = 0;

  constructor(options: AdaptiveLimitOptions) {
    this.#min = Math.max(1, options.min ?? 1);
    this.#max = Math.max(this.#min, options.max);
    this.#limit = Math.min(this.#max, Math.max(this.#min, options.initial ?? this.#min));
    this.#tolerance = options.tolerance ?? 1.5;
    this.#smoothing = options.smoothing ?? 0.2;
    this.#shortWeight = 1 / (options.shortWindow ?? 10);
    this.#longWeight = 1 / (options.longWindow ?? 200);
  }

  /** The whole number of attempts allowed at once now. */
  get current(): number {
    return Math.floor(this.#limit);
  }

  /** Records one finished attempt: how long it took. */
  sample(durationMs: number): void {
    const d = Math.max(1, durationMs);
    if (this.#longMs === 0) {
      this.#shortMs = d;
      this.#longMs = d;
    }
    this.#shortMs += (d - this.#shortMs) * this.#shortWeight;
    this.#longMs += (d - this.#longMs) * this.#longWeight;
    // recent attempts much faster than the long-run average: the queue is gone, forget it faster
    if (this.#longMs > 2 * this.#shortMs) this.#longMs *= 0.95;
    const gradient = Math.max(0.5, Math.min(1, (this.#tolerance * this.#longMs) / this.#shortMs));
    const next = this.#limit * gradient + Math.sqrt(this.#limit);
    const blended = this.#limit * (1 - this.#smoothing) + next * this.#smoothing;
    this.#limit = Math.min(this.#max, Math.max(this.#min, blended));
  }
}
