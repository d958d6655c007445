/**
 * Serialises work per key and batches what waits: while one batch for a key runs, later
 * submissions queue, and the next run takes them all at once (group commit). This is the
 * in-process half of "no lost layers" (one writer per tag at a time) and keeps N concurrent
 * appends to one tag at about two registry round trips instead of N.
 *
 * All submitters for one key must pass equivalent `run` functions: a batch runs the first one's.
 */
import { allAborted, attemptSignal, withAttemptSignal } from './attempt-signal.ts';

interface Waiting<T, R> {
  item: T;
  /** the submitter's attempt signal: a batch is cancelled only when all its submitters' are */
  signal: AbortSignal | undefined;
  run: (items: T[]) => Promise<R>;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
}

export class KeyedBatcher<T, R> {
  readonly #queues = new Map<string, Waiting<T, R>[]>();

  /** Resolves with the result of the batch that included `item` (or rejects with its error). */
  submit(key: string, item: T, run: (items: T[]) => Promise<R>): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const queue = this.#queues.get(key);
      const waiting = { item, signal: attemptSignal(), run, resolve, reject };
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
      const batch = queue.splice(0);
      try {
        const signal = allAborted(batch.map((w) => w.signal));
        const result = await withAttemptSignal(signal, () => batch[0].run(batch.map((w) => w.item)));
        for (const w of batch) w.resolve(result);
      } catch (err) {
        for (const w of batch) w.reject(err);
      }
    }
    this.#queues.delete(key);
  }
}
