import { type AttemptContext, type Lane, NO_ATTEMPT } from '../model/index.ts';

/**
 * Waiters in two FIFO queues, live first: the queue of a shared limit (the apiserver token bucket,
 * per-registry-host request slots). The lane is the waiter's, from its AttemptContext.
 */
export class LaneQueue<T> {
  readonly #live: T[] = [];
  readonly #backlog: T[] = [];

  push(item: T, lane: Lane): void {
    (lane === 'live' ? this.#live : this.#backlog).push(item);
  }

  shift(): T | undefined {
    return this.#live.shift() ?? this.#backlog.shift();
  }

  get length(): number {
    return this.#live.length + this.#backlog.length;
  }
}

/** The lane of a context; work outside any attempt is live. */
export const laneOf = (context: AttemptContext | undefined): Lane => (context ?? NO_ATTEMPT).lane;
