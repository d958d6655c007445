import type { Lane } from '../../model/index.ts';
import { LaneQueue } from '../../queue/index.ts';
import type { RegistryFetch } from './registry-transport.ts';

/**
 * At most `perHost` requests in flight to one registry host; the rest wait, live work before
 * backlog work (the lane the request's AttemptContext gives it, `init.lane`). Without it a draining backlog fills the connection pool's queue and a
 * fresh run's requests wait behind all of it, and a burst of attempts is sent to a registry at
 * once instead of at the rate it answers. The slot is held until the answer's headers arrive.
 */
export class HostSlots {
  readonly #perHost: number;
  readonly #hosts = new Map<string, { busy: number; waiting: LaneQueue<() => void> }>();

  constructor(options: { perHost: number }) {
    this.#perHost = Math.max(1, options.perHost);
  }

  /** `fetch` with a slot of the URL's host around each request. */
  wrap(fetch: RegistryFetch): RegistryFetch {
    return async (url, init) => {
      const release = await this.acquire(url.host, init.lane);
      try {
        return await fetch(url, init);
      } finally {
        release();
      }
    };
  }

  /** Resolves with the slot's release once one is free for `host`; `lane` orders the waiters. */
  async acquire(host: string, lane: Lane = 'live'): Promise<() => void> {
    const state = this.#hosts.get(host) ?? { busy: 0, waiting: new LaneQueue<() => void>() };
    this.#hosts.set(host, state);
    if (state.busy < this.#perHost && state.waiting.length === 0) state.busy++;
    else await new Promise<void>((resolve) => state.waiting.push(resolve, lane));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = state.waiting.shift();
      // the slot passes straight to the next waiter; a host with nothing in flight is forgotten
      if (next) next();
      else if (--state.busy === 0) this.#hosts.delete(host);
    };
  }

  /** Requests in flight to `host`. */
  inFlight(host: string): number {
    return this.#hosts.get(host)?.busy ?? 0;
  }
}
