import { getHeapStatistics } from 'node:v8';

/** What a body without a declared length reserves first; it grows (MemoryBudget.grow) as it is read. */
export const UNDECLARED_FIRST_BYTES = 64 * 1024;

/** The share of the V8 heap limit that reads a tenant can influence may hold at once. */
export const MEMORY_BUDGET_SHARE = 0.25;
/** The budget never falls below this, whatever the heap limit (one manifest and one blob check fit). */
export const MIN_MEMORY_BUDGET_BYTES = 24 * 1024 * 1024;

/** What a reader of tenant-influenced bytes is: names the wait in the metric. */
export type BudgetReader = 'registry' | 'kube' | 'kube-list';

export interface MemoryBudgetOptions {
  /** the bytes all reservations together may hold */
  totalBytes: number;
  /** told each time a reservation has to wait (the wait metric) */
  onWait?: (reader: BudgetReader) => void;
}

/** Held bytes; release once (a second release is a no-op). */
export interface Reservation {
  readonly bytes: number;
  release(): void;
}

interface Waiter {
  bytes: number;
  grant: () => void;
}

/**
 * The process-wide memory budget for reads whose size a tenant chooses (registry answers, run and
 * Pod objects, list items). Each read reserves its byte budget (its cap, or the declared length
 * when smaller) before it reads and releases it once the bytes are used; a reservation that does
 * not fit waits, first come first served, so the reads in flight never hold more than
 * `totalBytes` whatever the number of runs, images or tenants. A single reservation larger than
 * the whole budget is cut to it (it then waits for the budget to be empty): a cap is what bounds
 * one read, the budget what bounds them all.
 */
export class MemoryBudget {
  readonly totalBytes: number;
  onWait: ((reader: BudgetReader) => void) | undefined;
  #held = 0;
  readonly #waiters: Waiter[] = [];

  constructor(options: MemoryBudgetOptions) {
    this.totalBytes = Math.max(1, Math.floor(options.totalBytes));
    this.onWait = options.onWait;
  }

  /** Bytes held by reservations now. */
  get heldBytes(): number {
    return this.#held;
  }

  /** Reservations waiting now. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /**
   * Reserves `bytes` (at least 1, at most totalBytes), waiting while they do not fit. `signal`
   * (an attempt's deadline) abandons the wait: the promise rejects with the signal's reason.
   */
  reserve(bytes: number, reader: BudgetReader, signal?: AbortSignal): Promise<Reservation> {
    const want = Math.min(this.totalBytes, Math.max(1, Math.ceil(bytes)));
    if (signal?.aborted) return Promise.reject(signal.reason ?? new Error('aborted'));
    if (this.#waiters.length === 0 && this.#held + want <= this.totalBytes) {
      this.#held += want;
      return Promise.resolve(this.#reservation(want));
    }
    this.onWait?.(reader);
    return new Promise<Reservation>((resolve, reject) => {
      const waiter: Waiter = {
        bytes: want,
        grant: () => {
          signal?.removeEventListener('abort', abandon);
          resolve(this.#reservation(want));
        },
      };
      const abandon = () => {
        const at = this.#waiters.indexOf(waiter);
        if (at >= 0) this.#waiters.splice(at, 1);
        reject(signal?.reason ?? new Error('aborted'));
        this.#grantWaiting();
      };
      signal?.addEventListener('abort', abandon, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /**
   * Reserves `bytes` only if they fit now and nobody waits; undefined otherwise (never queues). For a
   * reader that holds reservations of its own and can free them by waiting on its own work (the
   * list): queueing behind a reader that waits on that work would deadlock.
   */
  tryReserve(bytes: number): Reservation | undefined {
    const want = Math.min(this.totalBytes, Math.max(1, Math.ceil(bytes)));
    if (this.#waiters.length > 0 || this.#held + want > this.totalBytes) return undefined;
    this.#held += want;
    return this.#reservation(want);
  }

  /**
   * `held` grown to `bytes` (a body without a declared length, read further than reserved): at once
   * when the difference fits with nobody waiting; otherwise `held` is released and `bytes` reserved
   * anew, in order, so a growing reader never waits while holding (no hold-and-wait deadlock).
   */
  async grow(held: Reservation, bytes: number, reader: BudgetReader, signal?: AbortSignal) {
    if (bytes <= held.bytes) return held;
    const extra = this.tryReserve(bytes - held.bytes);
    if (extra) {
      let released = false;
      return {
        bytes: held.bytes + extra.bytes,
        release: () => {
          if (released) return;
          released = true;
          held.release();
          extra.release();
        },
      } satisfies Reservation;
    }
    held.release();
    return this.reserve(bytes, reader, signal);
  }

  /** Runs `use` holding `bytes`, released when it settles. */
  async within<T>(bytes: number, reader: BudgetReader, use: () => Promise<T>, signal?: AbortSignal) {
    const held = await this.reserve(bytes, reader, signal);
    try {
      return await use();
    } finally {
      held.release();
    }
  }

  #reservation(bytes: number): Reservation {
    let released = false;
    return {
      bytes,
      release: () => {
        if (released) return;
        released = true;
        this.#held -= bytes;
        this.#grantWaiting();
      },
    };
  }

  /** Grants waiters in order while the first one fits (no overtaking: a large read is not starved). */
  #grantWaiting(): void {
    while (this.#waiters.length > 0) {
      const first = this.#waiters[0];
      if (this.#held + first.bytes > this.totalBytes) return;
      this.#waiters.shift();
      this.#held += first.bytes;
      first.grant();
    }
  }
}

/** The budget for this process: MEMORY_BUDGET_SHARE of V8's heap limit (what --max-old-space-size sets). */
export function heapMemoryBudgetBytes(heapSizeLimit = getHeapStatistics().heap_size_limit): number {
  return Math.max(MIN_MEMORY_BUDGET_BYTES, Math.floor(heapSizeLimit * MEMORY_BUDGET_SHARE));
}

/**
 * The one budget every tenant-influenced read of this process reserves from (the registry
 * clients, the apiserver client). The observer wires its wait metric in at start-up.
 */
export const processMemoryBudget = new MemoryBudget({ totalBytes: heapMemoryBudgetBytes() });
