import type { Lane } from '../../model/index.ts';
import { LaneQueue } from '../../queue/index.ts';

/**
 * Client-side rate limit of apiserver requests, as client-go's token bucket (`rest.Config` QPS and
 * Burst; Chains' `--kube-api-qps` / `--kube-api-burst`): `burst` requests may go at once, then
 * `qps` per second on average. Callers wait their turn in arrival order, live work (the lane
 * of the request's AttemptContext) before backlog work; a waiting caller costs one timer for the whole queue, not one each.
 */
export interface TokenBucketOptions {
  qps: number;
  burst: number;
  /** default performance.now (ms) */
  now?: () => number;
}

export class TokenBucket {
  readonly #qps: number;
  readonly #burst: number;
  readonly #now: () => number;
  #tokens: number;
  #at: number;
  readonly #waiting = new LaneQueue<() => void>();
  #timer: NodeJS.Timeout | undefined;

  constructor(options: TokenBucketOptions) {
    this.#qps = Math.max(Number.MIN_VALUE, options.qps);
    this.#burst = Math.max(1, options.burst);
    this.#now = options.now ?? (() => performance.now());
    this.#tokens = this.#burst;
    this.#at = this.#now();
  }

  /** Resolves when a request may go (at once while tokens are left); `lane` orders the waiters. */
  take(lane: Lane = 'live'): Promise<void> {
    this.#refill();
    if (this.#waiting.length === 0 && this.#tokens >= 1) {
      this.#tokens -= 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.#waiting.push(resolve, lane);
      this.#schedule();
    });
  }

  /** Callers waiting for a token now. */
  get waiting(): number {
    return this.#waiting.length;
  }

  #refill(): void {
    const now = this.#now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#at) / 1000) * this.#qps);
    this.#at = now;
  }

  #schedule(): void {
    if (this.#timer) return;
    const ms = Math.max(1, Math.ceil(((1 - this.#tokens) / this.#qps) * 1000));
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#refill();
      while (this.#waiting.length > 0 && this.#tokens >= 1) {
        this.#tokens -= 1;
        this.#waiting.shift()?.();
      }
      if (this.#waiting.length > 0) this.#schedule();
    }, ms);
    // a queued request keeps the process alive through its own promise chain, not through this timer
    this.#timer.unref();
  }
}
