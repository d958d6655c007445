import type { AttestOutcome, Attestor } from '../attest/index.ts';
import type { ObserverConfig } from '../config/index.ts';
import { allDownUntil, ObserverError, tenantMessage } from '../errors.ts';
import type {
  AttestationReader,
  AttestationRecorder,
  RunClaims,
  RunState,
  RunStateStore,
} from '../index/index.ts';
import { isRunGone, type RunApi } from '../kube/index.ts';
import type { AttemptContext } from '../model/index.ts';
import type { Logger, Metrics } from '../observability/index.ts';
import { delayFor } from '../retry/index.ts';
import type { Signer } from '../signing/index.ts';
import { RETRIES, SIGNED, TRANSPARENCY } from '../storage/index.ts';
import { describeRun, type RunRef } from '../tekton/index.ts';
import { recordAttestation } from './record.ts';
import type { RunReporter } from './run-reporter.ts';

export interface AttemptOutcomesOptions {
  config: Pick<ObserverConfig, 'maxAttempts' | 'retryBaseMs'>;
  runApi: Pick<RunApi, 'patchAnnotations'>;
  index: AttestationRecorder &
    RunStateStore &
    Pick<RunClaims, 'recordAttemptStarted' | 'deferNextAttempt'> &
    Pick<AttestationReader, 'findByRun' | 'getEnvelope'>;
  attestor: Pick<Attestor, 'forget'>;
  metrics: Metrics;
  report: RunReporter;
  clock: () => number;
  random: () => number;
}

/** The cap of the retry spacing kept in the index (the controller's own backoff cap). */
const RETRY_MAX_MS = 300_000;
/** The shortest wait of a deferred attempt (a probe that is due now is someone else's). */
const MIN_DEFER_MS = 1_000;

/**
 * Writes down what an attestation attempt did, wherever it must be said: the index (the state of
 * record: attempts, retry spacing, the attestation), the run's annotations (signed, retries),
 * metrics and Kubernetes Events. The Reconciler decides; this records. The order of the writes is
 * what makes a crash between any two of them safe (see succeeded).
 */
export class AttemptOutcomes {
  readonly #o: AttemptOutcomesOptions;
  readonly #report: RunReporter;

  constructor(options: AttemptOutcomesOptions) {
    this.#o = options;
    this.#report = options.report;
  }

  /** Attested per the index: make sure the run says so too (a tenant may have edited it). */
  async restoreMark(
    run: RunRef,
    found: string | undefined,
    log: Logger,
    context?: AttemptContext,
  ): Promise<void> {
    await this.#report.mismatch(run, 'signed_annotation_changed', found, log, context);
    await this.#mark(run, { [SIGNED]: 'true' }, log, context);
  }

  /**
   * Records a successful attempt: the index record, then the run's mark (with the tekton backend's
   * annotations), then the state, metrics and an Attested Event.
   */
  async succeeded(
    run: RunRef,
    outcome: AttestOutcome,
    signer: Signer,
    log: Logger,
    completedAt: number | undefined,
    context?: AttemptContext,
  ): Promise<void> {
    const id = await recordAttestation(this.#o.index, run, outcome, signer, this.#o.clock());
    // marked before the state says attested: a process killed in between leaves a run marked
    // signed=true whose own envelope the next attempt adopts (no alarm), never an attested run
    // without its mark (which would read as a tenant's edit)
    // the tekton backend's annotations go with the mark: one write of the run per attestation
    const marks: Record<string, string | null> = { ...runAnnotations(outcome), [SIGNED]: 'true' };
    if (outcome.transparencyUrl) marks[TRANSPARENCY] = outcome.transparencyUrl;
    await this.#mark(run, marks, log, context);
    await this.#setState(run, 'attested', 0);
    this.#o.metrics.chains[run.kind].markedSigned.inc();
    this.#o.metrics.runsAttested.inc({ kind: run.kind });
    if (completedAt !== undefined)
      this.#o.metrics.completionToAttested.observe(
        { kind: run.kind },
        Math.max(0, this.#o.clock() - completedAt) / 1000,
      );
    const where = outcome.results.flatMap((r) => (r.result.ok ? r.result.locations : []));
    const notes = outcome.results.flatMap((r) => (r.result.ok ? (r.result.notes ?? []) : []));
    for (const note of notes) await this.#report.event(run, 'Warning', 'StoredElsewhere', note, context);
    log.info({ attestationId: id, locations: where }, 'attested');
    await this.#report.event(
      run,
      'Normal',
      'Attested',
      `attested${id ? ` (index id ${id})` : ''}; stored in ${where.length} location(s)`,
      context,
    );
  }

  /**
   * Counts the attempt before it runs, in the index (its start time, and when the next may start
   * should this one fail) and in the run's state (attempts of this round), so an attempt cut short
   * by a crash still counts and the spacing survives a restart. Returns the attempt's number in
   * its round (a fresh try after `failed` starts a new round).
   */
  async startAttempt(run: RunRef, state: RunState | undefined): Promise<number> {
    const attempts = (state?.status === 'pending' ? state.attempts : 0) + 1;
    const now = this.#o.clock();
    const delay = delayFor(attempts - 1, {
      baseMs: this.#o.config.retryBaseMs,
      maxMs: RETRY_MAX_MS,
      random: this.#o.random,
    });
    const next = attempts < this.#o.config.maxAttempts ? new Date(now + delay) : undefined;
    await this.#o.index.recordAttemptStarted(run.uid, new Date(now), next);
    const lastError = state?.status === 'pending' && state.lastError ? state.lastError : undefined;
    await this.#setState(run, 'pending', attempts, lastError, now);
    return attempts;
  }

  /**
   * Gives up for good: signed=failed, an AttestationFailed Event. `detail` goes to the log; the
   * Event and the index (which tenants read through the API) get `publicText`, never registry bodies.
   */
  async giveUp(
    run: RunRef,
    attempts: number,
    log: Logger,
    { detail: message, publicText = message }: { detail: string; publicText?: string },
    context?: AttemptContext,
  ): Promise<void> {
    await this.#setState(run, 'failed', attempts, publicText);
    this.#o.attestor.forget(run.uid);
    await this.#mark(run, { [SIGNED]: 'failed', [RETRIES]: String(attempts) }, log, context);
    this.#o.metrics.runsFailed.inc({ kind: run.kind });
    log.error({ attempts, err: message }, 'attestation failed; giving up');
    await this.#report.event(
      run,
      'Warning',
      'AttestationFailed',
      `giving up after ${attempts} attempt(s): ${publicText}`,
      context,
    );
  }

  /** Attempt `attempts` failed; gives up (signed=failed) after the last one or when retrying cannot help. */
  async failed(
    run: RunRef,
    attempts: number,
    errors: ObserverError[],
    log: Logger,
    context?: AttemptContext,
  ): Promise<{ requeueAfterMs?: number }> {
    const message = errors.map((e) => e.message).join('; ');
    const publicText = errors.map(tenantMessage).join('; '); // Events, index: no registry bodies
    const hostsDownUntil = allDownUntil(errors);
    if (hostsDownUntil !== undefined)
      return this.#defer(run, attempts, hostsDownUntil, { message, publicText }, log, context);
    if (attempts >= this.#o.config.maxAttempts || errors.every((e) => !e.retryable)) {
      await this.giveUp(run, attempts, log, { detail: message, publicText }, context);
      return {};
    }
    await this.#setState(run, 'pending', attempts, publicText);
    await this.#mark(run, { [RETRIES]: String(attempts) }, log, context);
    this.#o.metrics.attemptFailures.inc({ kind: run.kind });
    log.warn({ attempts, err: message }, 'attestation attempt failed; will retry');
    await this.#report.event(
      run,
      'Warning',
      'AttestationRetrying',
      `attempt ${attempts} failed: ${publicText}`,
      context,
    );
    throw new ObserverError(`attesting ${describeRun(run)}: ${message}`, {
      code: 'storage',
      retryable: true,
    });
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
    context?: AttemptContext,
  ): Promise<{ requeueAfterMs?: number }> {
    const now = this.#o.clock();
    const at = Math.max(until, now + MIN_DEFER_MS);
    await this.#o.index.deferNextAttempt(run.uid, new Date(at));
    await this.#setState(run, 'pending', attempts - 1, publicText, now);
    log.warn(
      { attempts: attempts - 1, err: message, retryInMs: at - now },
      'registry down; attempt deferred',
    );
    await this.#report.event(
      run,
      'Warning',
      'AttestationDeferred',
      `registry unavailable, not counted as an attempt; next try in ${Math.ceil((at - now) / 1000)} s: ${publicText}`,
      context,
    );
    return { requeueAfterMs: at - now };
  }

  /** The run's state in the index, as of `at` (default now). */
  #setState(
    run: RunRef,
    status: RunState['status'],
    attempts: number,
    lastError?: string,
    at = this.#o.clock(),
  ): Promise<void> {
    return this.#o.index.setRunState({
      uid: run.uid,
      run,
      status,
      attempts,
      ...(lastError !== undefined ? { lastError } : {}),
      updatedAt: new Date(at),
    });
  }

  /** Patches the run's annotations; a run deleted meanwhile (404, or 409: re-created) needs no mark. */
  async #mark(
    run: RunRef,
    marks: Record<string, string | null>,
    log: Logger,
    context?: AttemptContext,
  ): Promise<void> {
    try {
      await this.#o.runApi.patchAnnotations(run, marks, run.uid, context);
    } catch (err) {
      if (!isRunGone(err)) throw err;
      log.info('the run is gone; not marking it');
    }
  }
}

/** What the backends ask the run to carry (the tekton backend's annotations), in result order. */
function runAnnotations(outcome: AttestOutcome): Record<string, string | null> {
  return Object.assign(
    {},
    ...outcome.results.map((r) => (r.result.ok ? (r.result.runAnnotations ?? {}) : {})),
  );
}
