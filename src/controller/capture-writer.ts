import type { RunCapture, RunCaptures } from '../index/index.ts';

export interface CaptureWriterOptions {
  index: Pick<RunCaptures, 'captureRuns'>;
  /** captures written in one transaction at most; default 500 (one list page) */
  maxBatch?: number;
  /** how long a capture waits for others to share its transaction; default 5 ms */
  lingerMs?: number;
}

interface Waiting {
  capture: RunCapture;
  settle: (err?: unknown) => void;
}

/**
 * Gathers captures arriving close together (a list page, a burst of watch events) into one
 * `captureRuns` transaction: a re-list of 10,000 finished runs costs ~20 commits, not 10,000.
 * `capture` resolves once its copy is durable, and rejects (the index's error) when its batch
 * failed, so the caller queues a run only after its copy is stored.
 */
export class CaptureWriter {
  readonly #index: Pick<RunCaptures, 'captureRuns'>;
  readonly #maxBatch: number;
  readonly #lingerMs: number;
  #waiting: Waiting[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(options: CaptureWriterOptions) {
    this.#index = options.index;
    this.#maxBatch = options.maxBatch ?? 500;
    this.#lingerMs = options.lingerMs ?? 5;
  }

  capture(capture: RunCapture): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#waiting.push({ capture, settle: (err) => (err === undefined ? resolve() : reject(err)) });
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
    try {
      await this.#index.captureRuns(batch.map((w) => w.capture));
      for (const w of batch) w.settle();
    } catch (err) {
      for (const w of batch) w.settle(err ?? new Error('capture failed'));
    }
  }
}
