import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { ObserverConfig } from '../config/index.ts';
import { allDownUntil, asObserverError, ObserverError, tenantMessage } from '../errors.ts';
import type { ChildRun } from '../formats/index.ts';
import type {
  AttestationReader,
  AttestationRecorder,
  IndexRetention,
  RunCaptures,
  RunClaims,
  RunState,
  RunStateStore,
} from '../index/index.ts';
import { type EventRecorder, isRunGone, type RunApi } from '../kube/index.ts';
import type { Logger, Metrics } from '../observability/index.ts';
import { delayFor } from '../retry/index.ts';
import type { Signer } from '../signing/index.ts';
import { RETRIES, SIGNED, TRANSPARENCY } from '../storage/index.ts';
import { describeRun, parseRun, type RunKey, type RunRef, type RunView } from '../tekton/index.ts';
import type { AttestOutcome, Attestor } from './attestor.ts';
import { readChildren } from './children.ts';
import { withDeadline } from './deadline.ts';
import { type Decision, decide, KEY_WAIT_MS, type ReconcileFacts } from './decision.ts';
import { namespaceCapError } from './namespace-cap.ts';
import { recordAttestation } from './record.ts';
import { type HeldClaim, MIN_CLAIM_WAIT_MS, RunClaimer } from './run-claim.ts';
import { RunReporter } from './run-reporter.ts';

export interface ReconcileResult {
  /** process this key again after so many ms (waiting for children, or for a signing key) */
  requeueAfterMs?: number;
  /** an attestation attempt ran (its duration feeds the controller's adaptive backlog limit) */
  attempted?: boolean;
  /** the attempt attested the run (a live one's duration feeds the controller's live-latency cap) */
  attested?: boolean;
}

/** What one reconcile read before deciding, its logger, and the claim it took (released at its end). */
interface Situation {
  key: RunKey;
  facts: ReconcileFacts;
  signer: Signer | undefined;
  log: Logger;
  holding: { claim?: HeldClaim };
}

export interface ReconcilerOptions {
  config: ObserverConfig;
  runApi: Pick<RunApi, 'get' | 'patchAnnotations'>;
  index: AttestationRecorder &
    RunStateStore &
    RunClaims &
    Pick<RunCaptures, 'findCapturedRun'> &
    Pick<IndexRetention, 'payloadBytes'> &
    Pick<AttestationReader, 'findByRun' | 'getEnvelope'>;
  attestor: Pick<Attestor, 'attest' | 'forget'>;
  events: EventRecorder;
  metrics: Metrics;
  logger: Logger;
  /** the key that signs now; undefined while none is loaded (then nothing is signed or marked) */
  signer: () => Signer | undefined;
  clock?: () => number;
  /** jitter source of the retry spacing; default Math.random */
  random?: () => number;
  /** this replica's name in the index's claims; default the host name (the Pod's) and a random suffix */
  owner?: string;
  /**
   * Called after every backend stored a run's attestation and before the index records it. Tests
   * only (the fault hook, src/config/fault-hook.ts): a process killed here leaves layers pushed and
   * nothing recorded. Default: nothing.
   */
  afterStored?: (run: RunRef) => void;
}

/** The cap of the retry spacing kept in the index (the controller's own backoff cap). */
const RETRY_MAX_MS = 300_000;
/** The shortest wait of a deferred attempt (a probe that is due now is someone else's). */
const MIN_DEFER_MS = 1_000;

/**
 * Level-based reconcile of one run key: re-read the run (the live object, else the copy the index
 * captured when the run was first seen finished), decide from the index (never from the run's
 * annotations, which tenants can edit) whether work is due, attest, record, mark. A run gone from
 * the cluster is attested from its copy; marking it is then skipped (404 is not a failure).
 * Safe to call any number of times. Throws ObserverError(retryable) to ask for a backoff retry.
 */
export class Reconciler {
  readonly #o: Required<Omit<ReconcilerOptions, 'owner'>>;
  readonly #report: RunReporter;
  readonly #claimer: RunClaimer;

  constructor(options: ReconcilerOptions) {
    this.#o = {
      clock: Date.now,
      random: Math.random,
      ...options,
      afterStored: options.afterStored ?? (() => undefined),
    };
    this.#report = new RunReporter(options);
    this.#claimer = new RunClaimer({
      claims: options.index,
      owner: options.owner ?? `${hostname()}-${randomBytes(4).toString('hex')}`,
      leaseMs: () => this.#o.config.claimLeaseSeconds * 1000,
      now: () => this.#o.clock(),
    });
  }

  /** This replica's name in the index's claims. */
  get owner(): string {
    return this.#claimer.owner;
  }

  async reconcile(key: RunKey, reconcileId: string): Promise<ReconcileResult> {
    const log = this.#o.logger.child({
      kind: key.kind,
      namespace: key.namespace,
      name: key.name,
      reconcileId,
    });
    const signer = this.#o.signer();
    const facts = await this.#readFacts(key, signer);
    const holding: Situation['holding'] = {};
    try {
      const result = await this.#act(decide(facts), { key, facts, signer, log, holding });
      // an earlier incarnation of the name went first: come back for the live one
      return facts.more ? { requeueAfterMs: result.requeueAfterMs ?? 0 } : result;
    } finally {
      await holding.claim?.release();
    }
  }

  /**
   * The run as it is now (or its captured copy) and what the index says about it (read again
   * once the claim is held). `more`: the run read is an earlier incarnation's copy (see #read).
   */
  async #readFacts(key: RunKey, signer: Signer | undefined): Promise<ReconcileFacts & { more?: boolean }> {
    const { run, fromCapture, more } = await this.#read(key);
    const state = run?.done ? await this.#o.index.getRunState(run.ref.uid) : undefined;
    return {
      run,
      fromCapture,
      ...(more ? { more } : {}),
      state,
      work: run && state?.status === 'pending' ? await this.#o.index.getRunWork(run.ref.uid) : undefined,
      maxAttempts: this.#o.config.maxAttempts,
      signerLoaded: signer !== undefined,
      children: undefined,
      now: this.#o.clock(),
      childWaitSeconds: this.#o.config.pipelinerun.childWaitSeconds,
    };
  }

  /**
   * Takes the run's claim. Held: another replica may have settled the run while this one waited,
   * so its index state is read again; when it changed (or the decision was about the run's mark)
   * the run is read again too, and decided on afresh (children already read are kept). Every
   * replica's attempt changes the index state before it writes to the run, so an unchanged state
   * means the run read before is still what observers left it. Not held: decided with the time
   * left on the other replica's lease.
   */
  async #claim(run: RunView, forMark: boolean, at: Situation): Promise<ReconcileResult> {
    const answer = await this.#claimer.take(run.ref.uid, at.log);
    if (!answer.held) {
      const facts = { ...at.facts, claim: answer.fact };
      return this.#act(decide(facts), { ...at, facts });
    }
    at.holding.claim = answer.held;
    const state = await this.#o.index.getRunState(run.ref.uid);
    const fresh =
      !forMark && sameState(state, at.facts.state)
        ? { ...at.facts, now: this.#o.clock() }
        : await this.#readFacts(at.key, at.signer);
    // deleted and created again under the same name meanwhile: the next reconcile claims the new one
    if (fresh.run && fresh.run.ref.uid !== run.ref.uid) return { requeueAfterMs: MIN_CLAIM_WAIT_MS };
    const facts: ReconcileFacts = { ...fresh, children: at.facts.children, claim: answer.fact };
    return this.#act(decide(facts), { ...at, facts });
  }

  /**
   * The run to work on: the live run, else its captured copy (deleted after it was first seen
   * finished). An earlier incarnation of the name (deleted and re-created before it was attested)
   * whose copy is not settled goes first; `more` then asks to come back for the live one.
   */
  async #read(key: RunKey): Promise<{ run: RunView | undefined; fromCapture: boolean; more?: boolean }> {
    const object = await this.#o.runApi.get(key);
    const copy = await this.#o.index.findCapturedRun(key);
    if (!object)
      return copy
        ? { run: parseRun(copy.object, key.kind), fromCapture: true }
        : { run: undefined, fromCapture: false };
    if (copy && copy.uid !== object.metadata.uid) {
      const earlier = await this.#o.index.getRunState(copy.uid);
      if (earlier?.status !== 'attested' && earlier?.status !== 'failed')
        return { run: parseRun(copy.object, key.kind), fromCapture: true, more: true };
    }
    return { run: parseRun(object, key.kind), fromCapture: false };
  }

  /** Patches the run's annotations; a run deleted meanwhile (404, or 409: re-created) needs no mark. */
  async #mark(run: RunRef, marks: Record<string, string | null>, log: Logger): Promise<void> {
    try {
      await this.#o.runApi.patchAnnotations(run, marks, run.uid);
    } catch (err) {
      if (!isRunGone(err)) throw err;
      log.info('the run is gone; not marking it');
    }
  }

  /** Carries out a decision: the one place each kind of decision is handled. */
  async #act(decision: Decision, at: Situation): Promise<ReconcileResult> {
    switch (decision.action) {
      case 'skip':
        return {};
      case 'restore-mark':
        await this.#restoreMark(decision.run.ref, decision.found, at.log);
        return {};
      case 'give-up-unfinished':
        await this.#giveUp(decision.run.ref, decision.attempts, at.log, {
          detail: `${decision.attempts} attempt(s) started and never finished (the observer stopped during each)`,
        });
        return {};
      case 'wait-for-retry':
        at.log.debug({ inMs: decision.requeueAfterMs }, 'next attempt not due yet');
        return { requeueAfterMs: decision.requeueAfterMs };
      case 'wait-for-key':
        at.log.warn('no signing key loaded; not attesting until one is');
        return { requeueAfterMs: decision.requeueAfterMs };
      case 'read-children': {
        const children = await readChildren(this.#o.runApi, this.#o.index, decision.run);
        const facts = { ...at.facts, children };
        return this.#act(decide(facts), { ...at, facts });
      }
      case 'wait-for-children':
        at.log.debug({ waiting: decision.waiting }, 'waiting for child TaskRuns to finish');
        return { requeueAfterMs: decision.requeueAfterMs };
      case 'claim':
        return this.#claim(decision.run, decision.forMark, at);
      case 'wait-for-claim':
        at.log.debug(
          { inMs: decision.requeueAfterMs },
          'another replica holds the run; waiting for its lease',
        );
        return { requeueAfterMs: decision.requeueAfterMs };
      case 'attest':
        return this.#attest(decision.run, decision.children, decision.signedWithoutRecord, at);
      default:
        return decision satisfies never;
    }
  }

  /**
   * Attests the run. A run that says signed=true without an index record is reported as a tamper
   * mismatch unless its own envelope was adopted (verified with a published key, and the statement
   * we build now): that is an observer that lost its index, not a tenant.
   */
  async #attest(
    view: RunView,
    children: readonly ChildRun[],
    signedWithoutRecord: boolean,
    at: Situation,
  ): Promise<ReconcileResult> {
    const { log, signer } = at;
    const { state } = at.facts;
    const run = view.ref;
    // decide() attests only with a signer loaded; this narrows the type
    if (!signer) return { requeueAfterMs: KEY_WAIT_MS };
    const full = await namespaceCapError(
      this.#o.index,
      run.namespace,
      this.#o.config.indexNamespacePayloadCapBytes,
    );
    if (full) {
      await this.#giveUp(run, state?.attempts ?? 0, log, {
        detail: full.message,
        publicText: tenantMessage(full),
      });
      return {};
    }
    const attempts = await this.#startAttempt(run, state);
    const started = performance.now();
    let outcome: AttestOutcome;
    try {
      outcome = await withDeadline(
        (signal) => this.#o.attestor.attest(run, view.object, [...children], signer, signal),
        this.#o.config.attemptTimeoutSeconds * 1000,
        `attesting ${describeRun(run)}`,
      );
    } catch (err) {
      const error = asObserverError(err, {
        code: 'payload_creation',
        retryable: true,
        context: `attesting ${describeRun(run)}`,
      });
      return this.#failed(run, attempts, [error], log);
    }
    if (signedWithoutRecord && !outcome.adopted) await this.#reportSignedWithoutRecord(run, true, log);
    if (outcome.adopted) log.info('adopted the envelope the run carries (signed by a published key)');
    await this.#report.skipped(run, outcome.skipped, log);
    await this.#report.execution(run, outcome.executionCheck, log);
    if (outcome.ok) {
      this.#o.afterStored(run);
      await this.#succeeded(run, outcome, signer, log, view.completedAt);
    } else
      await this.#failed(
        run,
        attempts,
        outcome.results.flatMap((r) => (r.result.ok ? [] : [r.result.error])),
        log,
      );
    this.#o.metrics.attestDuration.observe({ kind: run.kind }, (performance.now() - started) / 1000);
    return { attempted: true, attested: outcome.ok };
  }

  /** Attested per the index: make sure the run says so too (a tenant may have edited it). */
  async #restoreMark(run: RunRef, found: string | undefined, log: Logger): Promise<void> {
    await this.#report.mismatch(run, 'signed_annotation_changed', found, log);
    await this.#mark(run, { [SIGNED]: 'true' }, log);
  }

  async #reportSignedWithoutRecord(run: RunRef, signedWithoutRecord: boolean, log: Logger): Promise<void> {
    if (signedWithoutRecord) await this.#report.mismatch(run, 'signed_without_record', 'true', log);
  }

  async #succeeded(
    run: RunRef,
    outcome: AttestOutcome,
    signer: Signer,
    log: Logger,
    completedAt: number | undefined,
  ): Promise<void> {
    const id = await recordAttestation(this.#o.index, run, outcome, signer, this.#o.clock());
    // marked before the state says attested: a process killed in between leaves a run marked
    // signed=true whose own envelope the next attempt adopts (no alarm), never an attested run
    // without its mark (which would read as a tenant's edit)
    // the tekton backend's annotations go with the mark: one write of the run per attestation
    const marks: Record<string, string | null> = { ...runAnnotations(outcome), [SIGNED]: 'true' };
    if (outcome.transparencyUrl) marks[TRANSPARENCY] = outcome.transparencyUrl;
    await this.#mark(run, marks, log);
    await this.#o.index.setRunState({
      uid: run.uid,
      run,
      status: 'attested',
      attempts: 0,
      updatedAt: new Date(this.#o.clock()),
    });
    this.#o.metrics.chains[run.kind].markedSigned.inc();
    this.#o.metrics.runsAttested.inc({ kind: run.kind });
    if (completedAt !== undefined)
      this.#o.metrics.completionToAttested.observe(
        { kind: run.kind },
        Math.max(0, this.#o.clock() - completedAt) / 1000,
      );
    const where = outcome.results.flatMap((r) => (r.result.ok ? r.result.locations : []));
    const notes = outcome.results.flatMap((r) => (r.result.ok ? (r.result.notes ?? []) : []));
    for (const note of notes) await this.#report.event(run, 'Warning', 'StoredElsewhere', note);
    log.info({ attestationId: id, locations: where }, 'attested');
    await this.#report.event(
      run,
      'Normal',
      'Attested',
      `attested${id ? ` (index id ${id})` : ''}; stored in ${where.length} location(s)`,
    );
  }

  /**
   * Counts the attempt before it runs, in the index (its start time, and when the next may start
   * should this one fail) and in the run's state (attempts of this round), so an attempt cut short
   * by a crash still counts and the spacing survives a restart. Returns the attempt's number in
   * its round (a fresh try after `failed` starts a new round).
   */
  async #startAttempt(run: RunRef, state: RunState | undefined): Promise<number> {
    const attempts = (state?.status === 'pending' ? state.attempts : 0) + 1;
    const now = this.#o.clock();
    const delay = delayFor(attempts - 1, {
      baseMs: this.#o.config.retryBaseMs,
      maxMs: RETRY_MAX_MS,
      random: this.#o.random,
    });
    const next = attempts < this.#o.config.maxAttempts ? new Date(now + delay) : undefined;
    await this.#o.index.recordAttemptStarted(run.uid, new Date(now), next);
    await this.#o.index.setRunState({
      uid: run.uid,
      run,
      status: 'pending',
      attempts,
      ...(state?.status === 'pending' && state.lastError ? { lastError: state.lastError } : {}),
      updatedAt: new Date(now),
    });
    return attempts;
  }

  /**
   * Gives up for good: signed=failed, an AttestationFailed Event. `detail` goes to the log; the
   * Event and the index (which tenants read through the API) get `publicText`, never registry bodies.
   */
  async #giveUp(
    run: RunRef,
    attempts: number,
    log: Logger,
    { detail: message, publicText = message }: { detail: string; publicText?: string },
  ): Promise<void> {
    await this.#o.index.setRunState({
      uid: run.uid,
      run,
      status: 'failed',
      attempts,
      lastError: publicText,
      updatedAt: new Date(this.#o.clock()),
    });
    this.#o.attestor.forget(run.uid);
    await this.#mark(run, { [SIGNED]: 'failed', [RETRIES]: String(attempts) }, log);
    this.#o.metrics.runsFailed.inc({ kind: run.kind });
    log.error({ attempts, err: message }, 'attestation failed; giving up');
    await this.#report.event(
      run,
      'Warning',
      'AttestationFailed',
      `giving up after ${attempts} attempt(s): ${publicText}`,
    );
  }

  /**
   * Attempt `attempts` met only registry hosts known to be down (their circuits are open): it is
   * not counted against `attestation.max-attempts` (the round's count goes back), and the run waits
   * until the hosts' next probe, kept in the index so a restart keeps the spacing. A registry down
   * for minutes thus fails no run: its runs are tried once per cool-down, at one request each.
   */
  async #defer(
    run: RunRef,
    attempts: number,
    until: number,
    { message, publicText }: { message: string; publicText: string },
    log: Logger,
  ): Promise<ReconcileResult> {
    const now = this.#o.clock();
    const at = Math.max(until, now + MIN_DEFER_MS);
    await this.#o.index.deferNextAttempt(run.uid, new Date(at));
    await this.#o.index.setRunState({
      uid: run.uid,
      run,
      status: 'pending',
      attempts: attempts - 1,
      lastError: publicText,
      updatedAt: new Date(now),
    });
    log.warn(
      { attempts: attempts - 1, err: message, retryInMs: at - now },
      'registry down; attempt deferred',
    );
    await this.#report.event(
      run,
      'Warning',
      'AttestationDeferred',
      `registry unavailable, not counted as an attempt; next try in ${Math.ceil((at - now) / 1000)} s: ${publicText}`,
    );
    return { requeueAfterMs: at - now };
  }

  /** Attempt `attempts` failed; gives up (signed=failed) after the last one or when retrying cannot help. */
  async #failed(
    run: RunRef,
    attempts: number,
    errors: ObserverError[],
    log: Logger,
  ): Promise<ReconcileResult> {
    const message = errors.map((e) => e.message).join('; ');
    const publicText = errors.map(tenantMessage).join('; '); // Events, index: no registry bodies
    const hostsDownUntil = allDownUntil(errors);
    if (hostsDownUntil !== undefined)
      return this.#defer(run, attempts, hostsDownUntil, { message, publicText }, log);
    if (attempts >= this.#o.config.maxAttempts || errors.every((e) => !e.retryable)) {
      await this.#giveUp(run, attempts, log, { detail: message, publicText });
      return {};
    }
    await this.#o.index.setRunState({
      uid: run.uid,
      run,
      status: 'pending',
      attempts,
      lastError: publicText,
      updatedAt: new Date(this.#o.clock()),
    });
    await this.#mark(run, { [RETRIES]: String(attempts) }, log);
    this.#o.metrics.attemptFailures.inc({ kind: run.kind });
    log.warn({ attempts, err: message }, 'attestation attempt failed; will retry');
    await this.#report.event(
      run,
      'Warning',
      'AttestationRetrying',
      `attempt ${attempts} failed: ${publicText}`,
    );
    throw new ObserverError(`attesting ${describeRun(run)}: ${message}`, {
      code: 'storage',
      retryable: true,
    });
  }
}

/** Whether the index state is the one read before (no replica attempted, gave up or finished since). */
function sameState(a: RunState | undefined, b: RunState | undefined): boolean {
  if (!a || !b) return a === b;
  return (
    a.status === b.status && a.attempts === b.attempts && a.updatedAt.getTime() === b.updatedAt.getTime()
  );
}

/** What the backends ask the run to carry (the tekton backend's annotations), in result order. */
function runAnnotations(outcome: AttestOutcome): Record<string, string | null> {
  return Object.assign(
    {},
    ...outcome.results.map((r) => (r.result.ok ? (r.result.runAnnotations ?? {}) : {})),
  );
}
