import type { Logger } from '../observability/index.ts';
import type { IndexRetention } from './index-retention.ts';
import type { RunCaptures } from './run-captures.ts';

const DAY_MS = 86_400_000;

export interface IndexPrunerOptions {
  index: Pick<IndexRetention, 'pruneDeletedRuns'> & Pick<RunCaptures, 'pruneCaptures'>;
  logger: Pick<Logger, 'info' | 'warn'>;
  /** `index.retention-days`: every record of a run deleted longer ago than this is pruned */
  retentionDays: number;
  /**
   * How long the copy of a settled run outlives the run's deletion; default 1 hour, so a PipelineRun
   * still queued can read the copies of children attested and deleted before it.
   */
  captureGraceMs?: number;
  /** how often to prune; default 1 hour */
  intervalMs?: number;
  /** rows per statement (so one prune never holds the database long); default 1000 */
  batch?: number;
  /** called with what each round removed (metrics) */
  onPruned?: (what: 'runs' | 'captures', count: number) => void;
  now?: () => number;
}

/**
 * Keeps the index bounded on a timer: records of runs deleted more than `retentionDays` ago, and
 * copies of settled runs deleted more than `captureGraceMs` ago (or captured more than
 * `retentionDays` ago, when their deletion was never seen). A failed round (database down, busy)
 * is logged and tried again next interval; it never stops the observer.
 */
export class IndexPruner {
  readonly #o: Required<Omit<IndexPrunerOptions, 'onPruned'>> & Pick<IndexPrunerOptions, 'onPruned'>;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  constructor(options: IndexPrunerOptions) {
    this.#o = { captureGraceMs: 3_600_000, intervalMs: 3_600_000, batch: 1000, now: Date.now, ...options };
  }

  start(): void {
    this.#timer = setInterval(() => void this.pruneOnce(), this.#o.intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }

  /** One round: prunes in batches until nothing is left; one round at a time. */
  pruneOnce(): Promise<void> {
    this.#running ??= this.#round().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #round(): Promise<void> {
    const now = this.#o.now();
    const retention = new Date(now - this.#o.retentionDays * DAY_MS);
    try {
      let runs = 0;
      for (let n = -1; n !== 0; runs += n)
        n = (await this.#o.index.pruneDeletedRuns(retention, this.#o.batch)).runs;
      const cut = { deletedBefore: new Date(now - this.#o.captureGraceMs), capturedBefore: retention };
      let captures = 0;
      for (let n = -1; n !== 0; captures += n) n = await this.#o.index.pruneCaptures(cut, this.#o.batch);
      this.#o.onPruned?.('runs', runs);
      this.#o.onPruned?.('captures', captures);
      if (runs + captures > 0) this.#o.logger.info({ runs, captures }, 'pruned the index');
    } catch (err) {
      this.#o.logger.warn(
        { err: (err as Error).message },
        'pruning the index failed; trying again next interval',
      );
    }
  }
}
