export interface FailedReviewLimitOptions {
  /** failed token reviews a client may cause in a burst; default 10 */
  burst?: number;
  /** how fast that allowance comes back, reviews per second; default 0.2 (12 a minute) */
  refillPerSecond?: number;
  /** token reviews one client may have in flight at once; default 4 */
  maxInFlight?: number;
  /** clients remembered (least recently seen forgotten first); default 10 000 */
  maxClients?: number;
  now?: () => number;
}

interface ClientState {
  allowance: number;
  at: number;
  inFlight: number;
}

/**
 * A per-client (source address) limit on token reviews, so random bearer tokens from one client
 * cannot fill the access-review queue and get everyone else 503: each client has a bucket of
 * failed reviews (`burst`, refilled at `refillPerSecond`) and at most `maxInFlight` reviews at
 * once. A client with a valid token costs nothing (its token's review is cached and never fails);
 * one whose bucket is empty is answered 429 before any review. Invalid tokens are also cached
 * (CachedAuthorizer), so the same bad token again costs nothing either.
 */
export class FailedReviewLimit {
  readonly #clients = new Map<string, ClientState>();
  readonly #burst: number;
  readonly #refill: number;
  readonly #maxInFlight: number;
  readonly #maxClients: number;
  readonly #now: () => number;

  constructor(options: FailedReviewLimitOptions = {}) {
    this.#burst = options.burst ?? 10;
    this.#refill = options.refillPerSecond ?? 0.2;
    this.#maxInFlight = options.maxInFlight ?? 4;
    this.#maxClients = options.maxClients ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Runs `review` for `client` when its limits allow (returns `{ refused: seconds }` otherwise,
   * the seconds until it may try again); a review that answers undefined (not a valid token)
   * takes one from the client's allowance.
   */
  async run<T>(
    client: string,
    review: () => Promise<T | undefined>,
  ): Promise<{ value: T | undefined } | { refused: number }> {
    const state = this.#state(client);
    if (state.allowance < 1) return { refused: Math.ceil((1 - state.allowance) / this.#refill) };
    if (state.inFlight >= this.#maxInFlight) return { refused: 1 };
    state.inFlight++;
    try {
      const value = await review();
      if (value === undefined) state.allowance -= 1;
      return { value };
    } finally {
      state.inFlight--;
    }
  }

  #state(client: string): ClientState {
    const now = this.#now();
    let state = this.#clients.get(client);
    if (state) this.#clients.delete(client);
    else state = { allowance: this.#burst, at: now, inFlight: 0 };
    state.allowance = Math.min(this.#burst, state.allowance + ((now - state.at) / 1000) * this.#refill);
    state.at = now;
    this.#clients.set(client, state);
    if (this.#clients.size > this.#maxClients) {
      const oldest = this.#clients.keys().next().value;
      if (oldest !== undefined) this.#clients.delete(oldest);
    }
    return state;
  }
}
