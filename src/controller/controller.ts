import { randomUUID } from 'node:crypto';
import { ObserverError } from '../errors.ts';
import type { RunStateStore } from '../index/index.ts';
import type { Logger, Metrics } from '../observability/index.ts';
import { Backoff } from '../retry/index.ts';
import { SIGNED } from '../storage/index.ts';
import type { RunObservation, RunSource } from '../tekton/index.ts';
import { type RunKey, runKeyString } from '../tekton/index.ts';
import type { Reconciler } from './reconciler.ts';
import { WorkQueue } from './work-queue.ts';

export interface ControllerOptions {
  source: RunSource;
  reconciler: Pick<Reconciler, 'reconcile'>;
  index: Pick<RunStateStore, 'getRunState'>;
  metrics: Metrics;
  logger: Logger;
  /** concurrent reconciles; default 4 (Chains: --threads-per-controller, default 2) */
  workers?: number;
  /** retry backoff per key: base and cap in ms; defaults 1 s and 5 min */
  backoff?: { baseMs: number; maxMs: number };
  /** workers one namespace may never take, kept for another arriving; default 1 with 2+ workers */
  spareWorkers?: number;
}

/**
 * Wires a run source to a work queue and N workers. The source only says a run may need work;
 * finished runs the index already settled (and whose annotations agree) are dropped before
 * queueing, so a re-list of 10,000 attested runs costs 10,000 index look-ups, not API calls.
 */
export class Controller {
  readonly #o: Required<Omit<ControllerOptions, 'spareWorkers'>>;
  readonly #queue: WorkQueue<RunKey>;
  readonly #backoff: Backoff;
  #workers: Promise<void>[] = [];

  constructor(options: ControllerOptions) {
    this.#o = { workers: 4, backoff: { baseMs: 1000, maxMs: 300_000 }, ...options };
    this.#backoff = new Backoff(this.#o.backoff);
    // fair between namespaces: one tenant's slow runs hold at most its share of the workers
    this.#queue = new WorkQueue<RunKey>(runKeyString, {
      group: (k) => k.namespace,
      workers: this.#o.workers,
      spare: options.spareWorkers ?? (this.#o.workers > 1 ? 1 : 0),
    });
  }

  /** Starts workers, then the source; resolves when the source has delivered its first list. */
  async start(): Promise<void> {
    for (let i = 0; i < this.#o.workers; i++) this.#workers.push(this.#work());
    await this.#o.source.start((o) => void this.#observe(o));
  }

  async stop(): Promise<void> {
    this.#o.source.stop();
    this.#queue.shutDown();
    await Promise.all(this.#workers);
  }

  /** Adds a key directly (tests, and other sources of work). */
  enqueue(key: RunKey, lane: 'live' | 'backlog' = 'live'): void {
    this.#queue.add(key, lane);
    this.#o.metrics.queueDepth.set(this.#queue.length);
  }

  async #observe(o: RunObservation): Promise<void> {
    if (!o.done) return;
    try {
      const state = await this.#o.index.getRunState(o.uid);
      const signed = o.annotations[SIGNED];
      if (state?.status === 'attested' && signed === 'true') return;
      if (state?.status === 'failed' && signed === 'failed') return;
    } catch (err) {
      this.#o.logger.warn({ err: (err as Error).message }, 'index look-up failed; queueing the run anyway');
    }
    this.enqueue(o.key, o.origin);
  }

  async #work(): Promise<void> {
    for (;;) {
      const key = await this.#queue.get();
      if (!key) return;
      this.#o.metrics.queueDepth.set(this.#queue.length);
      try {
        await this.#reconcileOne(key);
      } finally {
        this.#queue.done(key);
      }
    }
  }

  async #reconcileOne(key: RunKey): Promise<void> {
    const id = runKeyString(key);
    const reconcileId = randomUUID().slice(0, 8);
    try {
      const result = await this.#o.reconciler.reconcile(key, reconcileId);
      this.#backoff.reset(id);
      if (result.requeueAfterMs !== undefined) this.#queue.addAfter(key, result.requeueAfterMs);
    } catch (err) {
      const retryable = !(err instanceof ObserverError) || err.retryable;
      const log = this.#o.logger.child({
        kind: key.kind,
        namespace: key.namespace,
        name: key.name,
        reconcileId,
      });
      if (!retryable) {
        this.#backoff.reset(id);
        log.error({ err: (err as Error).message }, 'reconcile failed; not retrying');
        return;
      }
      const delay = this.#backoff.next(id);
      log.warn({ err: (err as Error).message, retryInMs: delay }, 'reconcile failed; retrying');
      this.#queue.addAfter(key, delay);
    }
  }
}
