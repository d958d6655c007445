/**
 * A key queue in the controller-runtime mould, with two lanes so that fresh runs are never
 * starved by a backlog (Chains #979):
 * - `live` keys (changes seen on the watch) are always handed out before `backlog` keys (found
 *   by a list at start-up or after a re-list);
 * - a key is in the queue at most once (adding it again only raises its lane);
 * - a key being processed is never handed to a second worker; adding it meanwhile marks it
 *   dirty, and it is queued again when the worker calls done();
 * - addAfter() delays a key (per-key backoff, waiting for children); while it waits, add() leaves it
 *   waiting: a change seen meanwhile (often the observer's own annotation patch coming back on the
 *   watch) must not cut a retry backoff short. The timer hands it out.
 */
export type Lane = 'live' | 'backlog';

export class WorkQueue<K> {
  readonly #id: (key: K) => string;
  readonly #lanes: Record<Lane, Map<string, K>> = { live: new Map(), backlog: new Map() };
  readonly #processing = new Set<string>();
  readonly #dirty = new Map<string, { key: K; lane: Lane }>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  #waiters: ((key: K | undefined) => void)[] = [];
  #shutDown = false;

  /** `id` turns a key into its identity string (keys are compared by it). */
  constructor(id: (key: K) => string) {
    this.#id = id;
  }

  add(key: K, lane: Lane = 'live'): void {
    if (this.#shutDown) return;
    const id = this.#id(key);
    if (this.#timers.has(id)) return;
    if (this.#processing.has(id)) {
      const prev = this.#dirty.get(id);
      this.#dirty.set(id, { key, lane: prev?.lane === 'live' ? 'live' : lane });
      return;
    }
    if (this.#lanes.live.has(id)) return;
    if (this.#lanes.backlog.has(id)) {
      if (lane === 'backlog') return;
      this.#lanes.backlog.delete(id);
    }
    const waiter = this.#waiters.shift();
    if (waiter) {
      this.#processing.add(id);
      waiter(key);
      return;
    }
    this.#lanes[lane].set(id, key);
  }

  /** Adds the key after `delayMs`; a later addAfter for the same key replaces the earlier timer. */
  addAfter(key: K, delayMs: number, lane: Lane = 'live'): void {
    if (this.#shutDown) return;
    const id = this.#id(key);
    clearTimeout(this.#timers.get(id));
    const timer = setTimeout(() => {
      this.#timers.delete(id);
      this.add(key, lane);
    }, delayMs);
    timer.unref();
    this.#timers.set(id, timer);
  }

  /** The next key to process, or undefined once the queue is shut down. */
  get(): Promise<K | undefined> {
    for (const lane of ['live', 'backlog'] as const) {
      const next = this.#lanes[lane].entries().next();
      if (!next.done) {
        const [id, key] = next.value;
        this.#lanes[lane].delete(id);
        this.#processing.add(id);
        return Promise.resolve(key);
      }
    }
    if (this.#shutDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Marks a key's processing finished; re-queues it if it was added meanwhile. */
  done(key: K): void {
    const id = this.#id(key);
    this.#processing.delete(id);
    const dirty = this.#dirty.get(id);
    if (dirty) {
      this.#dirty.delete(id);
      this.add(dirty.key, dirty.lane);
    }
  }

  /** Keys waiting (both lanes), not counting delayed or in-process ones. */
  get length(): number {
    return this.#lanes.live.size + this.#lanes.backlog.size;
  }

  /** Keys waiting on a timer. */
  get delayed(): number {
    return this.#timers.size;
  }

  shutDown(): void {
    this.#shutDown = true;
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
    for (const w of this.#waiters) w(undefined);
    this.#waiters = [];
  }
}
