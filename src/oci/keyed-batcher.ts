import { type AttemptContext, NO_ATTEMPT } from '../model/index.ts';

interface Waiting<T, R> {
  item: T;
  group: unknown;
  /** the submitter's attempt: a batch is cancelled only when all its submitters' are */
  context: AttemptContext;
  run: (items: T[], context: AttemptContext) => Promise<R>;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
}

export interface SubmitOptions {
  /** who the work acts as, compared with ===; default one group for the key */
  group?: unknown;
  /** the submitter's attempt; default NO_ATTEMPT */
  context?: AttemptContext;
}

/**
 * Serialises work per key and batches what waits: while one batch for a key runs, later
 * submissions queue, and the next run takes them (group commit). This is the in-process half of
 * "no lost layers" (one writer per tag at a time) and keeps N concurrent appends to one tag at
 * about two registry round trips instead of N.
 *
 * A batch runs the first waiter's `run` with the credentials it closes over, so only submissions
 * of one `group` (the credentials they act with: the registry client, one per host and
 * credentials) ever share a batch: a batch never acts for a submitter with another's credentials,
 * and one group's denial never fails another group's submissions. Groups for one key still take
 * turns (one writer per tag), in arrival order of each batch's first waiter. All submitters of one
 * key and group must pass equivalent `run` functions.
 */
export class KeyedBatcher<T, R> {
  readonly #queues = new Map<string, Waiting<T, R>[]>();

  /** Resolves with the result of the batch that included `item` (or rejects with its error). */
  submit(
    key: string,
    item: T,
    run: (items: T[], context: AttemptContext) => Promise<R>,
    options: SubmitOptions = {},
  ): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const context = options.context ?? NO_ATTEMPT;
      const waiting = { item, group: options.group, context, run, resolve, reject };
      const queue = this.#queues.get(key);
      if (queue) {
        queue.push(waiting);
        return;
      }
      this.#queues.set(key, [waiting]);
      void this.#drain(key);
    });
  }

  /** Number of keys with queued or running work (for tests and shutdown). */
  get activeKeys(): number {
    return this.#queues.size;
  }

  async #drain(key: string): Promise<void> {
    const queue = this.#queues.get(key);
    if (!queue) return;
    while (queue.length > 0) {
      const group = queue[0].group;
      const batch = queue.filter((w) => w.group === group);
      queue.splice(0, queue.length, ...queue.filter((w) => w.group !== group));
      try {
        const result = await batch[0].run(
          batch.map((w) => w.item),
          batchContext(batch.map((w) => w.context)),
        );
        for (const w of batch) w.resolve(result);
      } catch (err) {
        for (const w of batch) w.reject(err);
      }
    }
    this.#queues.delete(key);
  }
}

/**
 * The context of work shared by several attempts: live when any of them is, and a signal that
 * aborts once every one of theirs has (the batch goes on while one of them still waits for it);
 * no signal when any one of them has none (someone waits without a deadline). The deadline is the
 * latest of theirs.
 */
function batchContext(contexts: readonly AttemptContext[]): AttemptContext {
  if (contexts.length === 1) return contexts[0];
  const lane = contexts.some((c) => c.lane === 'live') ? 'live' : 'backlog';
  const signal = allAborted(contexts.map((c) => c.signal));
  const deadlines = contexts.map((c) => c.deadline);
  const deadline = deadlines.some((d) => d === undefined) ? undefined : Math.max(...(deadlines as number[]));
  return { lane, ...(signal ? { signal } : {}), ...(deadline !== undefined ? { deadline } : {}) };
}

/** A signal that aborts once every one of `signals` has; undefined when any one is undefined. */
function allAborted(signals: readonly (AbortSignal | undefined)[]): AbortSignal | undefined {
  if (signals.length === 0 || signals.some((s) => s === undefined)) return undefined;
  const all = signals as AbortSignal[];
  if (all.length === 1) return all[0];
  const controller = new AbortController();
  const check = () => {
    if (all.every((s) => s.aborted)) controller.abort(all[0].reason);
  };
  for (const s of all) s.addEventListener('abort', check, { once: true });
  check();
  return controller.signal;
}
