import type { Lane } from '../model/index.ts';

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
 *
 * Fair between groups (namespaces): within a lane, keys are handed out round-robin across groups,
 * and while other groups have keys waiting, a group holds at most its share of the `workers`
 * (ceil(workers / groups with work), at least 1). A group never holds more than `workers - spare`
 * workers, so a group that has none in flight finds one free at once rather than waiting for a busy
 * group's slow attempt to end (the share alone cannot take back a worker already handed out).
 *
 * `backlogLimit` caps the backlog keys in process at once (an adaptive limit, adaptive-limit.ts)
 * and `liveLimit` the live ones: with workers for both, a fresh run finds a live worker at once
 * while a backlog drains.
 * Borrowing finishes the job: while every worker is taken and some group holds more than its share
 * (it took them while alone; an attempt cannot be pre-empted), a group below its share may take up
 * to `borrow` workers beyond `workers` (the caller runs that many more). Attempts wait on registries,
 * not on the CPU, so a few more in flight for a while cost little; a tenant arriving while another
 * one's runs hang on a 29-second registry gets its share at once, not after those attempts end.
 */
export type { Lane };

export interface WorkQueueOptions<K> {
  /** the fairness group of a key (a run's namespace); default: one group for all */
  group?: (key: K) => string;
  /** workers sharing the queue, for the per-group share; default: no share limit */
  workers?: number;
  /** workers no single group may take (kept free for a group arriving later); default 0 */
  spare?: number;
  /** backlog keys in process at most, read at each hand-out; default: no cap */
  backlogLimit?: () => number;
  /** live keys in process at most; default: no cap */
  liveLimit?: number;
  /** workers beyond `workers` a group below its share may borrow (see above); default 0 */
  borrow?: number;
}

/** Keys waiting in one lane: per group, in arrival order; groups in round-robin order. */
type LaneKeys<K> = Map<string, Map<string, K>>;

export class WorkQueue<K> {
  readonly #id: (key: K) => string;
  readonly #group: (key: K) => string;
  readonly #workers: number;
  readonly #spare: number;
  readonly #borrow: number;
  readonly #lanes: Record<Lane, LaneKeys<K>> = { live: new Map(), backlog: new Map() };
  /** keys being processed → the lane they were taken from */
  readonly #processing = new Map<string, Lane>();
  readonly #backlogLimit: () => number;
  readonly #liveLimit: number;
  #backlogBusy = 0;
  readonly #waitingIn: Record<Lane, number> = { live: 0, backlog: 0 };
  /** keys being processed, per group */
  readonly #busy = new Map<string, number>();
  readonly #dirty = new Map<string, { key: K; lane: Lane }>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  #waiters: ((key: K | undefined) => void)[] = [];
  #shutDown = false;
  #length = 0;

  /** `id` turns a key into its identity string (keys are compared by it). */
  constructor(id: (key: K) => string, options: WorkQueueOptions<K> = {}) {
    this.#id = id;
    this.#group = options.group ?? (() => '');
    this.#workers = options.workers ?? Number.POSITIVE_INFINITY;
    this.#spare = options.spare ?? 0;
    this.#backlogLimit = options.backlogLimit ?? (() => Number.POSITIVE_INFINITY);
    this.#liveLimit = options.liveLimit ?? Number.POSITIVE_INFINITY;
    this.#borrow = options.borrow ?? 0;
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
    const group = this.#group(key);
    if (this.#lanes.live.get(group)?.has(id)) return;
    const backlog = this.#lanes.backlog.get(group);
    if (backlog?.has(id)) {
      if (lane === 'backlog') return;
      this.#remove('backlog', group, id);
    }
    const keys = this.#lanes[lane].get(group) ?? new Map<string, K>();
    keys.set(id, key);
    this.#lanes[lane].set(group, keys);
    this.#length++;
    this.#waitingIn[lane]++;
    this.#dispatch();
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

  /** The next key to process, or undefined once the queue is shut down (keys still waiting stay). */
  get(): Promise<K | undefined> {
    if (this.#shutDown) return Promise.resolve(undefined);
    const key = this.#take();
    if (key !== undefined) return Promise.resolve(key);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Marks a key's processing finished; re-queues it if it was added meanwhile. */
  done(key: K): void {
    const id = this.#id(key);
    const lane = this.#processing.get(id);
    if (lane === 'backlog') this.#backlogBusy--;
    if (this.#processing.delete(id)) {
      const group = this.#group(key);
      const busy = (this.#busy.get(group) ?? 1) - 1;
      if (busy > 0) this.#busy.set(group, busy);
      else this.#busy.delete(group);
    }
    const dirty = this.#dirty.get(id);
    if (dirty) {
      this.#dirty.delete(id);
      this.add(dirty.key, dirty.lane);
    }
    this.#dispatch();
  }

  /** Keys waiting (both lanes), not counting delayed or in-process ones. */
  get length(): number {
    return this.#length;
  }

  /** Keys waiting in one lane (not counting delayed or in-process ones). */
  waitingIn(lane: Lane): number {
    return this.#waitingIn[lane];
  }

  /** The lane a key being processed was taken from (undefined when it is not being processed). */
  laneOf(key: K): Lane | undefined {
    return this.#processing.get(this.#id(key));
  }

  /** Backlog keys being processed now. */
  get backlogInProcess(): number {
    return this.#backlogBusy;
  }

  /** Hands waiting keys to idle workers (after the backlog limit rose). */
  wake(): void {
    this.#dispatch();
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

  /** Hands waiting keys to waiting workers while the share rule allows. */
  #dispatch(): void {
    while (this.#waiters.length > 0) {
      const key = this.#take();
      if (key === undefined) return;
      this.#waiters.shift()?.(key);
    }
  }

  /** The next key by lane, then round-robin over groups within their share; marks it processing. */
  #take(): K | undefined {
    for (const lane of ['live', 'backlog'] as const) {
      if (lane === 'backlog' && this.#backlogBusy >= Math.max(1, this.#backlogLimit())) continue;
      if (lane === 'live' && this.#processing.size - this.#backlogBusy >= this.#liveLimit) continue;
      for (const [group, keys] of this.#lanes[lane]) {
        if (!this.#mayTake(group)) continue;
        const [id, key] = keys.entries().next().value as [string, K];
        this.#remove(lane, group, id);
        // round-robin: the group goes to the back of its lane
        const rest = this.#lanes[lane].get(group);
        if (rest) {
          this.#lanes[lane].delete(group);
          this.#lanes[lane].set(group, rest);
        }
        this.#processing.set(id, lane);
        if (lane === 'backlog') this.#backlogBusy++;
        this.#busy.set(group, (this.#busy.get(group) ?? 0) + 1);
        return key;
      }
    }
    return undefined;
  }

  /**
   * A group may take another worker below its share, or when no other group has keys waiting;
   * never beyond `workers - spare`. With every worker taken, only a group below its share may,
   * by borrowing, while another group holds more than its share.
   */
  #mayTake(group: string): boolean {
    const held = this.#busy.get(group) ?? 0;
    if (held >= Math.max(1, this.#workers - this.#spare)) return false;
    const waiting = new Set([...this.#lanes.live.keys(), ...this.#lanes.backlog.keys()]);
    const active = new Set([...waiting, ...this.#busy.keys()]).size;
    const share = Math.max(1, Math.ceil(this.#workers / active));
    // with borrowing on, the caller runs more than `workers` and the queue holds the line
    if (this.#borrow > 0 && this.#processing.size >= this.#workers) {
      if (this.#processing.size >= this.#workers + this.#borrow || held >= share) return false;
      return [...this.#busy].some(([g, n]) => g !== group && n > share);
    }
    const othersWaiting = [...waiting].some((g) => g !== group);
    if (!othersWaiting) return true;
    return held < share;
  }

  #remove(lane: Lane, group: string, id: string): void {
    const keys = this.#lanes[lane].get(group);
    if (!keys?.delete(id)) return;
    this.#length--;
    this.#waitingIn[lane]--;
    if (keys.size === 0) this.#lanes[lane].delete(group);
  }
}
