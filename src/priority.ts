import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Which lane the work under way belongs to, carried through every await of a reconcile
 * (AsyncLocalStorage): `live` for runs seen completing, `backlog` for runs found by a list. Shared
 * limits further down (the apiserver token bucket, per-registry-host request slots) serve waiting
 * live requests first, so a fresh run does not queue behind a backlog's requests (Chains #979).
 * Work outside any reconcile counts as live.
 */
export type Priority = 'live' | 'backlog';

const current = new AsyncLocalStorage<Priority>();

/** Runs `fn` (and everything it awaits) in `priority`. */
export function withPriority<T>(priority: Priority, fn: () => T): T {
  return current.run(priority, fn);
}

export function currentPriority(): Priority {
  return current.getStore() ?? 'live';
}

/** Waiters in two FIFO queues, live first: the queue of a shared limit. */
export class PriorityQueue<T> {
  readonly #live: T[] = [];
  readonly #backlog: T[] = [];

  push(item: T, priority: Priority = currentPriority()): void {
    (priority === 'live' ? this.#live : this.#backlog).push(item);
  }

  shift(): T | undefined {
    return this.#live.shift() ?? this.#backlog.shift();
  }

  get length(): number {
    return this.#live.length + this.#backlog.length;
  }
}
