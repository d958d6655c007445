import type { CapturedVersion, RunCaptures } from '../index/index.ts';

export interface CaptureCheckOptions {
  index: Required<Pick<RunCaptures, 'capturedVersions'>>;
  /** uids checked in one query at most; default 500 (one list page) */
  maxBatch?: number;
  /** how long a check waits for others to share its query; default 5 ms */
  lingerMs?: number;
}

interface Waiting {
  uid: string;
  settle: (found: CapturedVersion | undefined) => void;
}

/**
 * Asks the index whether runs are captured already, batching checks that arrive close together (a
 * list page, a burst of watch events) into one query, as CaptureWriter batches the writes. A
 * failed query answers "not captured" for its batch: the caller then writes the copy, as it would
 * without the check.
 */
export class CaptureCheck {
  readonly #index: Required<Pick<RunCaptures, 'capturedVersions'>>;
  readonly #maxBatch: number;
  readonly #lingerMs: number;
  #waiting: Waiting[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(options: CaptureCheckOptions) {
    this.#index = options.index;
    this.#maxBatch = options.maxBatch ?? 500;
    this.#lingerMs = options.lingerMs ?? 5;
  }

  /** What the index holds of run `uid`'s capture, or undefined (none, or the check failed). */
  find(uid: string): Promise<CapturedVersion | undefined> {
    return new Promise((settle) => {
      this.#waiting.push({ uid, settle });
      if (this.#waiting.length >= this.#maxBatch) void this.#flush();
      else this.#timer ??= setTimeout(() => void this.#flush(), this.#lingerMs);
    });
  }

  async #flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#waiting;
    this.#waiting = [];
    if (batch.length === 0) return;
    let found = new Map<string, CapturedVersion>();
    try {
      found = await this.#index.capturedVersions([...new Set(batch.map((w) => w.uid))]);
    } catch {
      // not known to be captured: every run of the batch is written, as without the check
    }
    for (const w of batch) w.settle(found.get(w.uid));
  }
}
