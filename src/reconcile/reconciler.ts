import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { AttestOutcome, Attestor, ChainsVerdict } from '../attest/index.ts';
import type { ObserverConfig } from '../config/index.ts';
import { asObserverError, ObserverError, tenantMessage } from '../errors.ts';
import type { ChildRun } from '../formats/index.ts';
import type {
  AttestationReader,
  AttestationRecorder,
  IndexRetention,
  RunCaptures,
  RunClaims,
  RunRecords,
} from '../index/index.ts';
import type { EventRecorder, RunApi } from '../kube/index.ts';
import type { RunRecord } from '../model/index.ts';
import { type AttemptContext, NO_ATTEMPT } from '../model/index.ts';
import type { Logger, Metrics } from '../observability/index.ts';
import type { Signer } from '../signing/index.ts';
import { describeRun, parseRun, type RunKey, type RunRef, type RunView } from '../tekton/index.ts';
import { AttemptOutcomes, type OutcomeTarget } from './attempt-outcomes.ts';
import { readChildren } from './children.ts';
import { withDeadline } from './deadline.ts';
import { type Decision, decide, KEY_WAIT_MS, type ReconcileFacts } from './decision.ts';
import { type DiskShare, diskShareFromConfig } from './disk-share.ts';
import {
  CAP_WAIT_MS,
  envelopeBoundBytes,
  namespaceCapError,
  SHARE_RETRY_MS,
  shareDeferral,
} from './namespace-cap.ts';
import { type HeldClaim, MIN_CLAIM_WAIT_MS, RunClaimer } from './run-claim.ts';
import { RunReporter } from './run-reporter.ts';
import { NAMESPACE_SHARE_REASON, type SpaceVerdict } from './space-verdict.ts';

export interface ReconcileResult {
  /** process this key again after so many ms (waiting for children, or for a signing key) */
  requeueAfterMs?: number;
  /** an attestation attempt ran (its duration feeds the controller's adaptive backlog limit) */
  attempted?: boolean;
  /** the attempt attested the run (a live one's duration feeds the controller's live-latency cap) */
  attested?: boolean;
  /** another replica holds the run's claim: `requeueAfterMs` is the time left on its lease */
  waitingForClaim?: boolean;
}

/** What one reconcile read before deciding, its logger, and the claim it took (released at its end). */
interface Situation {
  key: RunKey;
  facts: ReconcileFacts;
  signer: Signer | undefined;
  log: Logger;
  holding: { claim?: HeldClaim };
  /** the reconcile's context (its lane); an attempt adds its deadline */
  context: AttemptContext;
}

export interface ReconcilerOptions {
  config: ObserverConfig;
  runApi: Pick<RunApi, 'get' | 'patchAnnotations'>;
  index: AttestationRecorder &
    RunRecords &
    RunClaims &
    Pick<RunCaptures, 'findCapturedRun' | 'firstChildSighting'> &
    Pick<IndexRetention, 'payloadBytes' | 'capturedBytes' | 'storageBytes'> &
    Pick<AttestationReader, 'findByRun' | 'getEnvelope'>;
  attestor: Pick<Attestor, 'attest' | 'forget'> & Partial<Pick<Attestor, 'adoptChains'>>;
  events: EventRecorder;
  metrics: Metrics;
  logger: Logger;
  /** the key that signs now; undefined while none is loaded (then nothing is signed or marked) */
  signer: () => Signer | undefined;
  /**
   * Why the run's tenant key (`signing.tenant-keys`) cannot sign now, or undefined when it can or
   * the run has none: like a missing platform key, the run then waits (KEY_WAIT_MS) and no attempt
   * is counted, so a tenant Secret created late loses no run. Default: never missing.
   */
  tenantKeyMissing?: (run: RunRef, context: AttemptContext) => Promise<ObserverError | undefined>;
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
  /**
   * the index volume's shares (disk-share.ts), shared with the controller's captures; default one
   * of its own from the `index.*` space keys
   */
  space?: DiskShare;
}

/**
 * Level-based reconcile of one run key: re-read the run (the live object, else the copy the index
 * captured when the run was first seen finished), decide from the index (never from the run's
 * annotations, which tenants can edit) whether work is due, attest, record, mark. A run gone from
 * the cluster is attested from its copy; marking it is then skipped (404 is not a failure).
 * Safe to call any number of times. Throws ObserverError(retryable) to ask for a backoff retry.
 * Deciding and carrying out happen here; what an attempt did is written down by AttemptOutcomes.
 */
export class Reconciler {
  readonly #o: Required<Omit<ReconcilerOptions, 'owner' | 'space'>>;
  readonly #space: DiskShare;
  readonly #report: RunReporter;
  readonly #claimer: RunClaimer;
  readonly #outcomes: AttemptOutcomes;

  constructor(options: ReconcilerOptions) {
    this.#o = {
      clock: Date.now,
      random: Math.random,
      ...options,
      afterStored: options.afterStored ?? (() => undefined),
      tenantKeyMissing: options.tenantKeyMissing ?? (async () => undefined),
    };
    this.#space = options.space ?? diskShareFromConfig(options.config, options.index, options.metrics);
    this.#report = new RunReporter({
      ...options,
      clock: this.#o.clock,
      successEvents: () => this.#o.config.successEvents,
    });
    this.#outcomes = new AttemptOutcomes({ ...this.#o, report: this.#report });
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

  /** `context`: the reconcile's lane (the controller's), handed to every apiserver and registry call. */
  async reconcile(
    key: RunKey,
    reconcileId: string,
    context: AttemptContext = NO_ATTEMPT,
  ): Promise<ReconcileResult> {
    const log = this.#o.logger.child({
      kind: key.kind,
      namespace: key.namespace,
      name: key.name,
      reconcileId,
    });
    const signer = this.#o.signer();
    const facts = await this.#readFacts(key, signer, context);
    const holding: Situation['holding'] = {};
    try {
      const result = await this.#act(decide(facts), { key, facts, signer, log, holding, context });
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
  async #readFacts(
    key: RunKey,
    signer: Signer | undefined,
    context: AttemptContext,
  ): Promise<ReconcileFacts & { more?: boolean }> {
    const { run, fromCapture, more } = await this.#read(key, context);
    const state = run?.done ? await this.#o.index.getRunRecord(run.ref.uid) : undefined;
    return {
      run,
      fromCapture,
      ...(more ? { more } : {}),
      state,
      maxAttempts: this.#o.config.maxAttempts,
      signerLoaded: signer !== undefined,
      children: undefined,
      now: this.#o.clock(),
      childWaitSeconds: this.#o.config.pipelinerun.childWaitSeconds,
      ...chainsTurn(this.#o.config),
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
    const state = await this.#o.index.getRunRecord(run.ref.uid);
    const fresh =
      !forMark && sameState(state, at.facts.state)
        ? { ...at.facts, now: this.#o.clock() }
        : await this.#readFacts(at.key, at.signer, at.context);
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
  async #read(
    key: RunKey,
    context: AttemptContext,
  ): Promise<{ run: RunView | undefined; fromCapture: boolean; more?: boolean }> {
    const object = await this.#o.runApi.get(key, context);
    const copy = await this.#o.index.findCapturedRun(key);
    if (!object)
      return copy
        ? { run: parseRun(copy.object, key.kind), fromCapture: true }
        : { run: undefined, fromCapture: false };
    if (copy && copy.uid !== object.metadata.uid) {
      const earlier = await this.#o.index.getRunRecord(copy.uid);
      if (earlier?.status !== 'attested' && earlier?.status !== 'failed')
        return { run: parseRun(copy.object, key.kind), fromCapture: true, more: true };
    }
    return { run: parseRun(object, key.kind), fromCapture: false };
  }

  /** Carries out a decision: the one place each kind of decision is handled. */
  async #act(decision: Decision, at: Situation): Promise<ReconcileResult> {
    switch (decision.action) {
      case 'skip':
        return {};
      case 'restore-mark':
        await this.#outcomes.apply(
          { kind: 'mark-lost', found: decision.found },
          target(decision.run.ref, at),
        );
        return {};
      case 'give-up-unfinished':
        await this.#outcomes.apply({ kind: 'abandoned' }, target(decision.run.ref, at));
        return {};
      case 'wait-for-retry':
        at.log.debug({ inMs: decision.requeueAfterMs }, 'next attempt not due yet');
        return { requeueAfterMs: decision.requeueAfterMs };
      case 'wait-for-key':
        at.log.warn('no signing key loaded; not attesting until one is');
        return { requeueAfterMs: decision.requeueAfterMs };
      case 'wait-for-chains':
        at.log.debug(
          { inMs: decision.requeueAfterMs },
          'completed before the Chains cut-over: Chains signs it',
        );
        return { requeueAfterMs: decision.requeueAfterMs };
      case 'read-children': {
        const children = await readChildren(this.#o.runApi, this.#o.index, decision.run, at.context);
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
        return { requeueAfterMs: decision.requeueAfterMs, waitingForClaim: true };
      case 'attest':
        return this.#attest(decision.run, decision.children, decision.signedWithoutRecord, at);
      default:
        return decision satisfies never;
    }
  }

  /**
   * Attests the run: counts the attempt, runs it under its deadline, and applies the outcome to the
   * run's record (which says when to come back: a failed attempt is not an exception). A run that
   * says signed=true without an index record is reported as a tamper mismatch unless its own
   * envelope was adopted (verified with a published key, and the statement we build now): that is
   * an observer that lost its index, not a tenant.
   */
  async #attest(
    view: RunView,
    children: readonly ChildRun[],
    signedWithoutRecord: boolean,
    at: Situation,
  ): Promise<ReconcileResult> {
    const { signer } = at;
    // decide() attests only with a signer loaded; this narrows the type
    if (!signer) return { requeueAfterMs: KEY_WAIT_MS };
    const missing = await this.#o.tenantKeyMissing(view.ref, at.context);
    if (missing) {
      at.log.warn({ err: missing.message }, 'tenant key unavailable; waiting, no attempt counted');
      await this.#o.events.record(
        {
          run: view.ref,
          type: 'Warning',
          reason: 'TenantKeyUnavailable',
          message: tenantMessage(missing),
        },
        at.context,
      );
      return { requeueAfterMs: KEY_WAIT_MS };
    }
    const grant = await this.#space.reserve(view.ref.namespace, envelopeBoundBytes(view, children));
    if (grant.verdict.kind !== 'fits') return this.#noSpace(view.ref, grant.verdict, at);
    try {
      return await this.#attestSigned(view, children, signedWithoutRecord, signer, at);
    } finally {
      await grant.release();
    }
  }

  /**
   * A run whose namespace has no room: over the fixed cap it fails for good (the cap's semantics);
   * waiting for attempts in flight it comes back in a second; over its share of a low disk it is
   * deferred (an Event, the metric; no attempt counted, nothing marked) and tried again in a minute.
   */
  async #noSpace(
    run: RunRef,
    verdict: Exclude<SpaceVerdict, { kind: 'fits' }>,
    at: Situation,
  ): Promise<ReconcileResult> {
    switch (verdict.kind) {
      case 'over-cap': {
        const full = namespaceCapError(run.namespace, verdict);
        const refused = { kind: 'refused', detail: full.message, publicText: tenantMessage(full) } as const;
        await this.#outcomes.apply(refused, target(run, at));
        return {};
      }
      case 'wait':
        at.log.debug({ inMs: CAP_WAIT_MS }, "waiting for the namespace's attempts in flight (its cap)");
        return { requeueAfterMs: CAP_WAIT_MS };
      case 'over-share': {
        const text = shareDeferral(run, verdict, 'attestation');
        this.#o.metrics.diskShareDeferred.inc({ what: 'attempt' });
        at.log.warn({ reason: NAMESPACE_SHARE_REASON, inMs: SHARE_RETRY_MS }, text);
        await this.#report.event(run, 'Warning', 'AttestationDeferred', text, at.context);
        return { requeueAfterMs: SHARE_RETRY_MS };
      }
      default:
        return verdict satisfies never;
    }
  }

  /** The attempt itself, with the space for its envelope held. */
  async #attestSigned(
    view: RunView,
    children: readonly ChildRun[],
    signedWithoutRecord: boolean,
    signer: Signer,
    at: Situation,
  ): Promise<ReconcileResult> {
    const { log, context } = at;
    const run = view.ref;
    const start = await this.#outcomes.apply({ kind: 'started' }, target(run, at));
    if (!start.saved) return {};
    const started = performance.now();
    const attempt = { ...target(run, at), record: start.record };
    const chains = signedWithoutRecord ? await this.#adoptChains(view, context) : OFF;
    const outcome =
      chains instanceof ObserverError
        ? chains
        : chains.kind === 'adopted'
          ? chains.outcome
          : await this.#attempt(view, children, signer, context);
    if (outcome instanceof ObserverError || chains instanceof ObserverError) {
      // a failed read of Chains' attestation is the attempt's outcome too
      const error = chains instanceof ObserverError ? chains : (outcome as ObserverError);
      const applied = await this.#outcomes.apply({ kind: 'failed', errors: [error] }, attempt);
      return { ...requeue(applied), attempted: true, attested: false };
    }
    if (signedWithoutRecord && !outcome.adopted && !signedByChainsLate(chains))
      await this.#report.mismatch(run, 'signed_without_record', 'true', log, context);
    if (chains.kind === 'adopted')
      log.info({ keyId: chains.keyId }, "adopted Tekton Chains' attestation (verified with Chains' key)");
    else if (outcome.adopted) log.info('adopted the envelope the run carries (signed by a published key)');
    if (chains.kind === 'refused') log.info({ reason: chains.reason }, "Chains' attestation not adopted");
    await this.#report.skipped(run, outcome.skipped, log, context);
    await this.#report.execution(run, outcome.executionCheck, log, context);
    if (outcome.ok) this.#o.afterStored(run);
    const applied = outcome.ok
      ? await this.#outcomes.apply(
          { kind: 'attested' },
          { ...attempt, attestation: { outcome, signer, completedAt: view.completedAt } },
        )
      : await this.#outcomes.apply({ kind: 'failed', errors: failures(outcome) }, attempt);
    this.#o.metrics.attestDuration.observe({ kind: run.kind }, (performance.now() - started) / 1000);
    return { ...requeue(applied), attempted: true, attested: outcome.ok && applied.saved };
  }

  /**
   * Whether Tekton Chains signed the run (its annotations verify with Chains' configured key): a
   * run Chains signed is adopted, not re-signed. A registry failure while reading its `.att` comes
   * back as the attempt's error (retried like any attempt).
   */
  async #adoptChains(view: RunView, context: AttemptContext): Promise<ChainsVerdict | ObserverError> {
    const adopt = this.#o.attestor.adoptChains;
    if (!adopt) return OFF;
    try {
      return await adopt.call(this.#o.attestor, view.ref, view.object, view.completedAt, context);
    } catch (err) {
      return asObserverError(err, {
        code: 'storage',
        retryable: true,
        context: `reading Chains' attestation of ${describeRun(view.ref)}`,
      });
    }
  }

  /** One attempt under its deadline; a thrown failure comes back as a coded error. */
  async #attempt(
    view: RunView,
    children: readonly ChildRun[],
    signer: Signer,
    context: AttemptContext,
  ): Promise<AttestOutcome | ObserverError> {
    const run = view.ref;
    try {
      return await withDeadline(
        context,
        (attempt) => this.#o.attestor.attest(run, view.object, [...children], signer, attempt),
        this.#o.config.attemptTimeoutSeconds * 1000,
        `attesting ${describeRun(run)}`,
      );
    } catch (err) {
      return asObserverError(err, {
        code: 'payload_creation',
        retryable: true,
        context: `attesting ${describeRun(run)}`,
      });
    }
  }
}

/** Where an outcome of this reconcile lands: the run, its record as read, the claim held. */
function target(run: RunRef, at: Situation): OutcomeTarget {
  const fence = at.holding.claim?.fence;
  // decide() returns a writing decision only once the claim is held
  if (!fence)
    throw new ObserverError(`writing ${describeRun(run)} without its claim`, {
      code: 'internal',
      retryable: true,
    });
  return { run, record: at.facts.state, fence, log: at.log, context: at.context };
}

const OFF: ChainsVerdict = { kind: 'off' };

/** Chains' turn before the cut-over, when adoption is configured with one (decision.ts). */
function chainsTurn(config: ObserverConfig): Pick<ReconcileFacts, 'chainsTurn'> {
  const { cutOver, publicKeyFiles, publicKeySecret, waitSeconds } = config.chainsAdoption;
  if (!cutOver || (publicKeyFiles.length === 0 && !publicKeySecret)) return {};
  return { chainsTurn: { cutOver: cutOver.getTime(), waitMs: waitSeconds * 1000 } };
}

/** Chains' signature verified, but the run completed after the cut-over: attested by us, no alarm. */
function signedByChainsLate(chains: ChainsVerdict): boolean {
  return chains.kind === 'refused' && chains.reason === 'after_cut_over';
}

function requeue({ requeueAfterMs }: { requeueAfterMs?: number }): ReconcileResult {
  return requeueAfterMs !== undefined ? { requeueAfterMs } : {};
}

/** The errors of the backends that failed. */
function failures(outcome: AttestOutcome): ObserverError[] {
  return outcome.results.flatMap((r) => (r.result.ok ? [] : [r.result.error]));
}

/** Whether the index state is the one read before (no replica attempted, gave up or finished since). */
function sameState(a: RunRecord | undefined, b: RunRecord | undefined): boolean {
  if (!a || !b) return a === b;
  return (
    a.status === b.status && a.attempts === b.attempts && a.updatedAt.getTime() === b.updatedAt.getTime()
  );
}
