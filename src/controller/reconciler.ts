import type { ObserverConfig } from '../config/index.ts';
import { asObserverError, ObserverError, tenantMessage } from '../errors.ts';
import type { ChildRun, SkippedInput } from '../formats/index.ts';
import type { AttestationIndex, RunState } from '../index/index.ts';
import type { EventRecorder, RunApi } from '../kube/index.ts';
import type { Logger, Metrics } from '../observability/index.ts';
import type { Signer } from '../signing/index.ts';
import { RETRIES, SIGNED, TRANSPARENCY } from '../storage/index.ts';
import { isDone, type PipelineRun, runRefOf, type TektonRun } from '../tekton/index.ts';
import { describeRun, type RunKey, type RunRef } from '../tekton/run-ref.ts';
import type { AttestOutcome, Attestor } from './attestor.ts';
import { childWaitDeadline, resolveChildren } from './children.ts';
import { recordAttestation } from './record.ts';

export interface ReconcileResult {
  /** process this key again after so many ms (waiting for children, or for a signing key) */
  requeueAfterMs?: number;
}

export interface ReconcilerOptions {
  config: ObserverConfig;
  runApi: Pick<RunApi, 'get' | 'patchAnnotations'>;
  index: AttestationIndex;
  attestor: Pick<Attestor, 'attest' | 'forget'>;
  events: EventRecorder;
  metrics: Metrics;
  logger: Logger;
  /** the key that signs now; undefined while none is loaded (then nothing is signed or marked) */
  signer: () => Signer | undefined;
  clock?: () => number;
}

/**
 * Level-based reconcile of one run key: re-read the run, decide from the index (never from the
 * run's annotations, which tenants can edit) whether work is due, attest, record, mark.
 * Safe to call any number of times. Throws ObserverError(retryable) to ask for a backoff retry.
 */
export class Reconciler {
  readonly #o: Required<ReconcilerOptions>;

  constructor(options: ReconcilerOptions) {
    this.#o = { clock: Date.now, ...options };
  }

  async reconcile(key: RunKey, reconcileId: string): Promise<ReconcileResult> {
    const log = this.#o.logger.child({
      kind: key.kind,
      namespace: key.namespace,
      name: key.name,
      reconcileId,
    });
    const object = await this.#o.runApi.get(key);
    if (!object || !isDone(object as TektonRun)) return {};
    const run = runRefOf(object as TektonRun);
    const state = await this.#o.index.getRunState(run.uid);
    const signedAnnotation = object.metadata.annotations?.[SIGNED];
    if (state?.status === 'attested') return this.#keepMarked(run, signedAnnotation, log);
    if (state?.status === 'failed' && signedAnnotation === 'failed') return {};
    if (signedAnnotation === 'true')
      await this.#mismatch(
        run,
        'signed_without_record',
        'annotated signed=true but the observer has no record of attesting it; attesting now',
        log,
      );
    const signer = this.#o.signer();
    if (!signer) {
      log.warn('no signing key loaded; not attesting until one is');
      return { requeueAfterMs: 30_000 };
    }
    let children: ChildRun[] = [];
    if (run.kind === 'PipelineRun') {
      children = await resolveChildren(this.#o.runApi, object as PipelineRun);
      const waiting = children.filter((c) => c.state === 'unfinished');
      const deadline = childWaitDeadline(object as PipelineRun, this.#o.config.pipelinerun.childWaitSeconds);
      if (waiting.length && this.#o.clock() < deadline) {
        log.debug({ waiting: waiting.map((c) => c.name) }, 'waiting for child TaskRuns to finish');
        return { requeueAfterMs: Math.min(10_000, deadline - this.#o.clock()) };
      }
    }
    const started = performance.now();
    let outcome: AttestOutcome;
    try {
      outcome = await this.#o.attestor.attest(run, object as TektonRun, children, signer);
    } catch (err) {
      const error = asObserverError(err, {
        code: 'payload_creation',
        retryable: true,
        context: `attesting ${describeRun(run)}`,
      });
      return this.#failed(run, state, [error], log);
    }
    await this.#reportSkipped(run, outcome.skipped, log);
    if (outcome.ok) await this.#succeeded(run, outcome, signer, log);
    else
      await this.#failed(
        run,
        state,
        outcome.results.flatMap((r) => (r.result.ok ? [] : [r.result.error])),
        log,
      );
    this.#o.metrics.attestDuration.observe({ kind: run.kind }, (performance.now() - started) / 1000);
    return {};
  }

  /** Attested per the index: make sure the run says so too (a tenant may have edited it). */
  async #keepMarked(
    run: RunRef,
    signedAnnotation: string | undefined,
    log: Logger,
  ): Promise<ReconcileResult> {
    if (signedAnnotation !== 'true') {
      await this.#mismatch(
        run,
        'signed_annotation_changed',
        `annotation ${SIGNED} was "${signedAnnotation ?? ''}" but the run is attested; restoring "true"`,
        log,
      );
      await this.#o.runApi.patchAnnotations(run, { [SIGNED]: 'true' }, run.uid);
    }
    return {};
  }

  async #succeeded(run: RunRef, outcome: AttestOutcome, signer: Signer, log: Logger): Promise<void> {
    const id = await recordAttestation(this.#o.index, run, outcome, signer, this.#o.clock());
    await this.#o.index.setRunState({
      uid: run.uid,
      run,
      status: 'attested',
      attempts: 0,
      updatedAt: new Date(this.#o.clock()),
    });
    const marks: Record<string, string> = { [SIGNED]: 'true' };
    if (outcome.transparencyUrl) marks[TRANSPARENCY] = outcome.transparencyUrl;
    await this.#o.runApi.patchAnnotations(run, marks, run.uid);
    this.#o.metrics.chains[run.kind].markedSigned.inc();
    this.#o.metrics.runsAttested.inc({ kind: run.kind });
    const where = outcome.results.flatMap((r) => (r.result.ok ? r.result.locations : []));
    const notes = outcome.results.flatMap((r) => (r.result.ok ? (r.result.notes ?? []) : []));
    for (const note of notes) await this.#event(run, 'Warning', 'StoredElsewhere', note);
    log.info({ attestationId: id, locations: where }, 'attested');
    await this.#event(
      run,
      'Normal',
      'Attested',
      `attested${id ? ` (index id ${id})` : ''}; stored in ${where.length} location(s)`,
    );
  }

  /** Counts a failed attempt; gives up (signed=failed) after the last one or when retrying cannot help. */
  async #failed(
    run: RunRef,
    state: RunState | undefined,
    errors: ObserverError[],
    log: Logger,
  ): Promise<ReconcileResult> {
    const message = errors.map((e) => e.message).join('; ');
    const publicText = errors.map(tenantMessage).join('; '); // Events, index: no registry bodies
    const attempts = (state?.status === 'pending' ? state.attempts : 0) + 1;
    const gaveUp = attempts >= this.#o.config.maxAttempts || errors.every((e) => !e.retryable);
    await this.#o.index.setRunState({
      uid: run.uid,
      run,
      status: gaveUp ? 'failed' : 'pending',
      attempts,
      lastError: publicText,
      updatedAt: new Date(this.#o.clock()),
    });
    if (gaveUp) {
      this.#o.attestor.forget(run.uid);
      await this.#o.runApi.patchAnnotations(
        run,
        { [SIGNED]: 'failed', [RETRIES]: String(attempts) },
        run.uid,
      );
      this.#o.metrics.runsFailed.inc({ kind: run.kind });
      log.error({ attempts, err: message }, 'attestation failed; giving up');
      await this.#event(
        run,
        'Warning',
        'AttestationFailed',
        `giving up after ${attempts} attempt(s): ${publicText}`,
      );
      return {};
    }
    await this.#o.runApi.patchAnnotations(run, { [RETRIES]: String(attempts) }, run.uid);
    this.#o.metrics.attemptFailures.inc({ kind: run.kind });
    log.warn({ attempts, err: message }, 'attestation attempt failed; will retry');
    await this.#event(run, 'Warning', 'AttestationRetrying', `attempt ${attempts} failed: ${publicText}`);
    throw new ObserverError(`attesting ${describeRun(run)}: ${message}`, {
      code: 'storage',
      retryable: true,
    });
  }

  async #reportSkipped(run: RunRef, skipped: SkippedInput[], log: Logger): Promise<void> {
    if (!skipped.length) return;
    for (const s of skipped) {
      this.#o.metrics.inputsSkipped.inc({ kind: run.kind, reason: s.code });
      log.warn({ source: s.source, code: s.code, reason: s.reason }, 'input left out of provenance');
    }
    const summary = skipped.map((s) => `${s.source}: ${s.reason}`).join('; ');
    await this.#event(
      run,
      'Warning',
      'InputSkipped',
      `${skipped.length} input(s) left out of provenance: ${summary}`,
    );
  }

  async #mismatch(run: RunRef, reason: string, message: string, log: Logger): Promise<void> {
    this.#o.metrics.tamperMismatches.inc({ kind: run.kind, reason });
    log.warn({ reason }, message);
    await this.#event(run, 'Warning', 'AnnotationMismatch', message);
  }

  #event(run: RunRef, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    return this.#o.events.record({ run, type, reason, message });
  }
}
