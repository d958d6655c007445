/**
 * A cap on backlog concurrency kept by the latency of live attempts (runs seen completing), the
 * one figure users wait on: each live attempt slower than `targetMs` cuts the cap by `decrease`,
 * each one within it raises the cap by one, and each backlog attempt that ends raises it by
 * 1/cap (about one per round of backlog attempts, as TCP's congestion window grows per round
 * trip), so a drain recovers in seconds, not one fresh run at a time, and with no fresh runs the
 * cap returns to `max`: the backlog alone is bounded by its own limit (adaptive-limit.ts), which
 * follows what the services sustain and may settle where every request queues a little; behind
 * those queues a fresh run would wait too.
 */
export interface LatencyCapOptions {
  /** a live attempt taking longer than this cuts the cap */
  targetMs: number;
  /** lowest cap (default 1) */
  min?: number;
  /** highest cap, and the starting one */
  max: number;
  /** factor a slow live attempt multiplies the cap by (default 0.7) */
  decrease?: number;
}

export class LatencyCap {
  readonly #targetMs: number;
  readonly #min: number;
  readonly #max: number;
  readonly #decrease: number;
  #cap: number;

  constructor(options: LatencyCapOptions) {
    this.#targetMs = options.targetMs;
    this.#min = Math.max(1, options.min ?? 1);
    this.#max = Math.max(this.#min, options.max);
    this.#decrease = options.decrease ?? 0.7;
    this.#cap = this.#max;
  }

  /** The whole number of backlog attempts the live lane's latency allows at once now. */
  get current(): number {
    return Math.floor(this.#cap);
  }

  /** Records one finished backlog attempt: room to grow. */
  backlogDone(): void {
    this.#cap = Math.min(this.#max, this.#cap + 1 / this.#cap);
  }

  /** Records one finished live attempt: how long it took. */
  sample(durationMs: number): void {
    this.#cap =
      durationMs > this.#targetMs
        ? Math.max(this.#min, this.#cap * this.#decrease)
        : Math.min(this.#max, this.#cap + 1);
  }
}
