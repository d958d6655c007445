import { randomUUID } from 'node:crypto';
import { INDEX_DISK_FULL, ObserverError } from '../errors.ts';
import type { IndexRetention, RunCaptures, RunClaims, RunRecords } from '../index/index.ts';
import type { RunHold } from '../kube/index.ts';
import { isSettled, SIGNED } from '../model/index.ts';
import { type Logger, type Metrics, RECONCILER } from '../observability/index.ts';
import type { PodEvidence } from '../policy/index.ts';
import { type Lane, WorkQueue } from '../queue/index.ts';
import { MIN_CLAIM_WAIT_MS, type Reconciler } from '../reconcile/index.ts';
import { Backoff, RETRY_MAX_MS } from '../retry/index.ts';
import type { RunObservation, RunSource } from '../tekton/index.ts';
import { type RunKey, runKeyString } from '../tekton/index.ts';
import { BacklogConcurrency } from './backlog-concurrency.ts';
import { CaptureCheck } from './capture-check.ts';
import type { CaptureGate } from './capture-gate.ts';
import { CaptureWriter } from './capture-writer.ts';

export interface ControllerOptions {
  source: RunSource;
  reconciler: Pick<Reconciler, 'reconcile'>;
  index: Pick<RunRecords, 'getRunRecord'> &
    Pick<RunCaptures, 'captureRuns' | 'unsettledCaptures' | 'capturedVersions'> &
    Pick<IndexRetention, 'markRunDeleted'> &
    Partial<Pick<RunClaims, 'getRunWork'>>;
  /**
   * this replica's name in the index's claims (Reconciler.owner). With an index replicas share
   * (one that answers `capturedVersions`), a run another replica holds the claim on waits out that
   * claim before it is reconciled here: every replica sees every run, and reading the run and its
   * copy only to find the claim taken buys nothing. Default: no such wait (the reconcile decides).
   */
  claimOwner?: string;
  /** finalizer mode (`observer.finalizers`): holds unfinished runs until captured; default none */
  hold?: RunHold;
  /** capture batching (capture-writer.ts); defaults there */
  captureBatch?: { maxBatch?: number; lingerMs?: number };
  /**
   * a finished TaskRun's Pod evidence, read when the run is captured (`attestation.execution-check`
   * not off; policy/pod-evidence.ts); undefined when it cannot be read now (a later sighting tries
   * again; the first evidence stored is kept). Default: none taken.
   */
  podEvidence?: (key: RunKey, object: Record<string, unknown>) => Promise<PodEvidence | undefined>;
  /** whether a run's copy may be captured now (capture-gate.ts: the disk share); default always */
  captureGate?: Pick<CaptureGate, 'admits'>;
  metrics: Metrics;
  logger: Logger;
  /** concurrent reconciles kept for live keys; default 4 (Chains: --threads-per-controller, default 2) */
  workers?: number;
  /**
   * further reconciles for backlog keys at most (default 0): how many of them run at once adapts
   * to how long attempts take (adaptive-limit.ts), and never takes the `workers` live keys need
   */
  backlogWorkers?: number;
  /** whether a run's observed resourceVersion is the answer to our own write (its echo); default never */
  ownWrite?: (uid: string, resourceVersion: string) => boolean | Promise<boolean>;
  /**
   * backoff per key after a reconcile that threw (the unexpected: the index or the apiserver down;
   * a failed attempt is not thrown, its record says when to retry): base and cap in ms; defaults
   * 1 s and RETRY_MAX_MS
   */
  backoff?: { baseMs: number; maxMs: number };
  /** workers one namespace may never take, kept for another arriving; default 1 with 2+ workers */
  spareWorkers?: number;
  /** a live attempt slower than this shrinks the backlog's concurrency (latency-cap.ts); default LIVE_TARGET_MS */
  liveTargetMs?: number;
  /**
   * the CPU's busy share since the last call (machine-cpu.ts), sampled every second: the backlog's
   * concurrency follows the headroom it leaves; default none (it follows attempt time)
   */
  cpuBusyShare?: () => number | undefined;
}

/**
 * Live attempt time the backlog must leave room for: 40% of the 2 s from completion to
 * `signed: "true"` that fresh runs should see during a drain (docs/performance.md); the rest is
 * the watch, the capture, the mark's own round trips and the tail. Measured with the backlog bench
 * at 1,000 runs: 1 s gave p99 2.13 s at 12.5 runs/s, 0.8 s gave 1.71 s at 13.7 runs/s (the drain
 * as fast as without the cap, 13.6).
 */
export const LIVE_TARGET_MS = 800;

/**
 * Workers a namespace below its share may borrow beyond `workers` while another holds more than
 * its share (WorkQueue `borrow`): at most `workers` more reconciles, each mostly waiting on I/O.
 */
const BORROW_FACTOR = 1;

/** What the source last said of a run: enough to ask the index whether it is settled (isSettled). */
interface Seen {
  uid: string;
  annotations: Record<string, string>;
  deleted: boolean;
}

const seenOf = (o: RunObservation): Seen => ({
  uid: o.uid,
  annotations: o.annotations,
  deleted: o.deleted === true,
});

/**
 * Wires a run source to a work queue and N workers. The source only says a run may need work;
 * finished runs the index already settled (and whose annotations agree) are dropped before
 * queueing, so a re-list of 10,000 attested runs costs 10,000 index look-ups, not API calls.
 * Any other finished run is captured first (its object written to the index, batched with the
 * runs around it) and queued once its copy is durable: a run deleted before it is reconciled is
 * attested from the copy. A DELETED event marks the run deleted in the index (retention) and,
 * carrying the final object, captures it like any other sighting.
 */
export class Controller {
  readonly #o: Required<
    Omit<
      ControllerOptions,
      'spareWorkers' | 'hold' | 'captureBatch' | 'podEvidence' | 'captureGate' | 'cpuBusyShare' | 'claimOwner'
    >
  >;
  readonly #claimOwner: string | undefined;
  readonly #podEvidence: ControllerOptions['podEvidence'];
  readonly #hold: RunHold | undefined;
  readonly #captures: CaptureWriter;
  readonly #gate: Pick<CaptureGate, 'admits'> | undefined;
  /** whether a sighting is captured already (an index replicas share); undefined: always write */
  readonly #captured: CaptureCheck | undefined;
  readonly #queue: WorkQueue<RunKey>;
  readonly #backlog: BacklogConcurrency;
  #headroomTimer: NodeJS.Timeout | undefined;
  #stopped = false;
  readonly #backoff: Backoff;
  /** finished runs seen and not yet settled (attested, failed for good, gone): key → completion time */
  readonly #outstanding = new Map<string, number>();
  /** what the source last said of each outstanding run (its uid, marks, deletion) */
  readonly #seen = new Map<string, Seen>();
  /** keys waiting because another replica held the run's claim (ReconcileResult.waitingForClaim) */
  readonly #afterClaim = new Set<string>();
  #workers: Promise<void>[] = [];

  constructor(options: ControllerOptions) {
    this.#o = {
      workers: 4,
      backlogWorkers: 0,
      ownWrite: () => false,
      backoff: { baseMs: 1000, maxMs: RETRY_MAX_MS },
      liveTargetMs: LIVE_TARGET_MS,
      ...options,
    };
    this.#backoff = new Backoff(this.#o.backoff);
    const backlogMax = this.#o.backlogWorkers;
    this.#backlog = new BacklogConcurrency({
      max: backlogMax || this.#o.workers,
      liveTargetMs: this.#o.liveTargetMs,
      ...(options.cpuBusyShare ? { busyShare: options.cpuBusyShare } : {}),
    });
    const all = this.#o.workers + backlogMax;
    this.#hold = options.hold;
    this.#podEvidence = options.podEvidence;
    this.#gate = options.captureGate;
    this.#claimOwner = options.index.capturedVersions ? options.claimOwner : undefined;
    this.#captures = new CaptureWriter({ index: options.index, ...options.captureBatch });
    const { capturedVersions } = options.index;
    this.#captured = capturedVersions
      ? new CaptureCheck({
          index: { capturedVersions: (uids) => capturedVersions.call(options.index, uids) },
          ...options.captureBatch,
        })
      : undefined;
    // fair between namespaces: one tenant's slow runs hold at most its share of the workers
    this.#queue = new WorkQueue<RunKey>(runKeyString, {
      group: (k) => k.namespace,
      workers: all,
      spare: options.spareWorkers ?? (all > 1 ? 1 : 0),
      borrow: this.#o.workers * BORROW_FACTOR,
      // with backlog workers, live keys keep `workers` (and what they borrow) and never take more
      ...(backlogMax > 0
        ? {
            backlogLimit: () => this.backlogLimit,
            liveLimit: this.#o.workers * (1 + BORROW_FACTOR),
          }
        : {}),
    });
  }

  /** Milliseconds since the oldest outstanding finished run completed (0 when none). */
  oldestOutstandingMs(now = Date.now()): number {
    let oldest = now;
    for (const at of this.#outstanding.values()) if (at < oldest) oldest = at;
    return now - oldest;
  }

  /**
   * Starts workers, then the source; resolves when the source has delivered its first list. Then
   * resumes the index's durable queue: captured runs not settled yet are queued too (a run deleted
   * after capture is in no list; whoever queued it from its DELETED event may have stopped).
   *
   * The backlog's limit starts moving only after the first list: while it is read and parsed, the
   * CPU and the attempts per second say what the list costs and how fast connections and code warm
   * up, not what more attempts in flight would buy, so a growth step judged then "pays" by accident
   * and a large backlog's limit would climb before the drain (to 52 of 64, or all the way with a
   * faster growth, in the backlog bench's 10k start) and hold the memory of that many attempts.
   */
  async start(): Promise<void> {
    // the queue keeps `workers` busy (more only while a namespace borrows) and the backlog workers
    const all = this.#o.workers * (1 + BORROW_FACTOR) + this.#o.backlogWorkers;
    for (let i = 0; i < all; i++) this.#workers.push(this.#work());
    await this.#o.source.start((o) => this.#observe(o));
    if (this.#o.backlogWorkers > 0 && !this.#stopped) {
      this.#headroomTimer = setInterval(() => this.#tickBacklog(), 1000);
      this.#headroomTimer.unref();
    }
    await this.#resumeCaptured();
  }

  async #resumeCaptured(): Promise<void> {
    try {
      const keys = await this.#o.index.unsettledCaptures();
      for (const { kind, namespace, name } of keys) this.enqueue({ kind, namespace, name }, 'backlog');
      if (keys.length) this.#o.logger.info({ runs: keys.length }, 'queued captured runs not settled yet');
    } catch (err) {
      this.#countIndexError(err);
      this.#o.logger.warn({ err: (err as Error).message }, 'reading captured runs not settled failed');
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#headroomTimer);
    this.#o.source.stop();
    this.#queue.shutDown();
    await Promise.all(this.#workers);
  }

  /** Adds a key directly (tests, and other sources of work). */
  enqueue(key: RunKey, lane: 'live' | 'backlog' = 'live'): void {
    this.#queue.add(key, lane);
    this.#depth();
  }

  /** Backlog attempts allowed at once now (backlog-concurrency.ts). */
  get backlogLimit(): number {
    return this.#backlog.current;
  }

  /** Once a second: the CPU headroom moves the backlog's limit while it binds. */
  #tickBacklog(): void {
    const limit = this.backlogLimit;
    const binding = this.#queue.waitingIn('backlog') > 0 && this.#queue.backlogInProcess >= limit;
    this.#backlog.tick(binding);
    this.#limitChanged(limit);
  }

  #limitChanged(before: number): void {
    const now = this.backlogLimit;
    this.#o.metrics.backlogLimit.set(now);
    if (now > before) this.#queue.wake();
  }

  #depth(): void {
    const m = this.#o.metrics;
    m.queueDepth.set(this.#queue.length);
    m.laneDepth.set({ lane: 'live' }, this.#queue.waitingIn('live'));
    m.laneDepth.set({ lane: 'backlog' }, this.#queue.waitingIn('backlog'));
    m.workQueueDepth.set({ reconciler: RECONCILER }, this.#queue.length);
  }

  /** Settles once the run is captured and queued (or found settled); never rejects. */
  async #observe(o: RunObservation): Promise<void> {
    // the watch echo of our own patch says nothing new: no index look-up, capture or second reconcile
    if (!o.deleted && o.resourceVersion && (await this.#o.ownWrite(o.uid, o.resourceVersion))) return;
    if (o.deleted) await this.#markDeleted(o);
    if (!o.done) {
      if (!o.deleted && o.object) await this.#hold?.hold(o.key, o.object);
      return;
    }
    const id = runKeyString(o.key);
    if (await this.#settled(o)) {
      this.#outstanding.delete(id);
      // a key waiting out another replica's claim finds this answer when its timer fires
      if (this.#afterClaim.has(id)) this.#seen.set(id, seenOf(o));
      else this.#seen.delete(id);
      if (!o.deleted && o.object) await this.#hold?.release(o.key, o.object);
      return;
    }
    if (o.object && (await this.#capture(o)) && !o.deleted) await this.#hold?.release(o.key, o.object);
    if (!this.#outstanding.has(id)) this.#outstanding.set(id, o.completedAt ?? Date.now());
    this.#seen.set(id, seenOf(o));
    this.enqueue(o.key, o.origin);
  }

  /** Whether the index settled the run (attested or failed for good) and its annotations agree. */
  async #settled(o: RunObservation): Promise<boolean> {
    try {
      return isSettled(await this.#o.index.getRunRecord(o.uid), o.annotations, o.deleted === true);
    } catch (err) {
      this.#countIndexError(err);
      this.#o.logger.warn({ err: (err as Error).message }, 'index look-up failed; queueing the run anyway');
      return false;
    }
  }

  /**
   * Writes the run's copy to the index (batched). On failure the run is queued all the same
   * (attested while it exists) and a held run stays held, so its next sighting tries again.
   */
  async #capture(o: RunObservation): Promise<boolean> {
    try {
      if (this.#gate && !(await this.#gate.admits(o))) return false;
      if (await this.#capturedAlready(o)) return true;
      const evidence = await this.#evidence(o);
      await this.#captures.capture({
        uid: o.uid,
        run: o.key,
        object: o.object ?? {},
        capturedAt: new Date(),
        ...(evidence ? { evidence } : {}),
      });
      return true;
    } catch (err) {
      this.#countIndexError(err);
      this.#o.logger.warn(
        { err: (err as Error).message, kind: o.key.kind, namespace: o.key.namespace, name: o.key.name },
        'capturing the finished run failed; queueing it anyway',
      );
      return false;
    }
  }

  /**
   * Whether the index holds this sighting's copy already, with the Pod evidence when one would be
   * taken, so writing it (and reading the Pod) again would add nothing: the same uid at the same
   * resourceVersion (another replica, or an earlier sighting, wrote it); or any copy of the uid when
   * the run is marked `signed: "true"` and not deleted — most often the echo of another replica's
   * mark, seen before that replica's index record: the run was attested from the content the copy
   * holds, and the mark's version adds only its annotations.
   */
  async #capturedAlready(o: RunObservation): Promise<boolean> {
    if (!this.#captured || !o.resourceVersion) return false;
    const found = await this.#captured.find(o.uid);
    if (!found || !(found.evidence || !this.#podEvidence || o.key.kind !== 'TaskRun')) return false;
    return found.resourceVersion === o.resourceVersion || (o.annotations[SIGNED] === 'true' && !o.deleted);
  }

  /** The TaskRun's Pod evidence now; a failed read is logged and leaves it to a later sighting. */
  async #evidence(o: RunObservation): Promise<PodEvidence | undefined> {
    if (!this.#podEvidence || o.key.kind !== 'TaskRun' || !o.object) return undefined;
    try {
      return await this.#podEvidence(o.key, o.object);
    } catch (err) {
      this.#o.logger.warn(
        { err: (err as Error).message, namespace: o.key.namespace, name: o.key.name },
        "reading the finished TaskRun's Pod failed; its evidence is taken at a later sighting",
      );
      return undefined;
    }
  }

  async #markDeleted(o: RunObservation): Promise<void> {
    try {
      await this.#o.index.markRunDeleted(o.uid, new Date());
    } catch (err) {
      this.#countIndexError(err);
      this.#o.logger.warn({ err: (err as Error).message, uid: o.uid }, 'marking the run deleted failed');
    }
  }

  async #work(): Promise<void> {
    for (;;) {
      const key = await this.#queue.get();
      if (!key) return;
      this.#depth();
      try {
        // the key's lane rides along every request of the reconcile: shared limits serve live first
        await this.#reconcileOne(key, this.#queue.laneOf(key) ?? 'live');
      } finally {
        this.#queue.done(key);
      }
    }
  }

  async #reconcileOne(key: RunKey, lane: Lane): Promise<void> {
    const id = runKeyString(key);
    if (this.#afterClaim.delete(id) && (await this.#settledMeanwhile(id))) {
      this.#forget(id);
      return;
    }
    const waitMs = await this.#claimedElsewhere(id);
    if (waitMs !== undefined) {
      this.#afterClaim.add(id);
      this.#queue.addAfter(key, waitMs);
      return;
    }
    const reconcileId = randomUUID().slice(0, 8);
    const started = performance.now();
    try {
      const result = await this.#o.reconciler.reconcile(key, reconcileId, { lane });
      this.#counted(key, started, true);
      if (result.attempted) this.#sample(performance.now() - started, lane, result.attested === true);
      this.#backoff.reset(id);
      if (result.requeueAfterMs !== undefined) this.#queue.addAfter(key, result.requeueAfterMs);
      else this.#forget(id);
      if (result.waitingForClaim) this.#afterClaim.add(id);
    } catch (err) {
      this.#sample(performance.now() - started, lane, false);
      this.#counted(key, started, false);
      this.#countIndexError(err);
      const retryable = !(err instanceof ObserverError) || err.retryable;
      const log = this.#o.logger.child({
        kind: key.kind,
        namespace: key.namespace,
        name: key.name,
        reconcileId,
      });
      if (!retryable) {
        this.#backoff.reset(id);
        this.#forget(id);
        log.error({ err: (err as Error).message }, 'reconcile failed; not retrying');
        return;
      }
      const delay = this.#backoff.next(id);
      log.warn({ err: (err as Error).message, retryInMs: delay }, 'reconcile failed; retrying');
      this.#queue.addAfter(key, delay);
    }
  }

  /** The run no longer needs this replica: settled, gone, or given up on. */
  #forget(id: string): void {
    this.#outstanding.delete(id);
    this.#seen.delete(id);
    this.#afterClaim.delete(id);
  }

  /**
   * For a key back from waiting on another replica's claim: whether the index settled the run the
   * source last showed (and its marks agree), as #observe decides when a sighting arrives. Replicas
   * share every run, and the one that waited would otherwise read the run and its copy again only
   * to find it attested. A failed look-up answers no: the reconcile decides.
   */
  async #settledMeanwhile(id: string): Promise<boolean> {
    const seen = this.#seen.get(id);
    if (!seen) return false;
    try {
      return isSettled(await this.#o.index.getRunRecord(seen.uid), seen.annotations, seen.deleted);
    } catch (err) {
      this.#countIndexError(err);
      return false;
    }
  }

  /**
   * How long until another replica's claim on the run the source last showed runs out, when one
   * holds it now (that replica is attempting the run), or undefined. A failed look-up answers
   * undefined: the reconcile decides.
   */
  async #claimedElsewhere(id: string): Promise<number | undefined> {
    const seen = this.#seen.get(id);
    const { getRunWork } = this.#o.index;
    if (!this.#claimOwner || !seen || !getRunWork) return undefined;
    try {
      const claim = (await getRunWork.call(this.#o.index, seen.uid))?.claim;
      const left = claim ? claim.expiresAt.getTime() - Date.now() : 0;
      return claim && claim.owner !== this.#claimOwner && left > 0
        ? Math.max(MIN_CLAIM_WAIT_MS, left)
        : undefined;
    } catch (err) {
      this.#countIndexError(err);
      return undefined;
    }
  }

  /** knative's reconcile_count / reconcile_latency (ms), per run kind. */
  #counted(key: RunKey, started: number, ok: boolean): void {
    const labels = { reconciler: key.kind, success: String(ok) };
    this.#o.metrics.reconcileCount.inc(labels);
    this.#o.metrics.reconcileLatency.observe(labels, performance.now() - started);
  }

  /**
   * Feeds the backlog limit, and the live-latency cap on it: a live attempt that attested its run
   * by its duration, a backlog attempt as room to grow. Failed live attempts do not feed the cap: a
   * tenant whose registry fails (or answers slowly, then times out) must not slow every tenant's
   * backlog. A raised limit hands waiting backlog keys to idle workers at once.
   */
  #sample(durationMs: number, lane: Lane, attested: boolean): void {
    const before = this.backlogLimit;
    this.#backlog.attemptEnded(durationMs, lane, attested);
    this.#limitChanged(before);
  }

  /** Index failures are what the IndexUnavailable alert (deploy/base/80-prometheusrule.yaml) counts. */
  #countIndexError(err: unknown): void {
    if (!(err instanceof ObserverError && err.code === 'index')) return;
    this.#o.metrics.storeResults.inc({ backend: 'index', outcome: 'error' });
    if (err.reason === INDEX_DISK_FULL) {
      this.#o.metrics.indexDiskFull.inc();
      this.#o.logger.error(
        { err: err.message },
        'the index disk is full: nothing is marked signed until it has room',
      );
    }
  }
}
