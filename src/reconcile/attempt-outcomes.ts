import type { AttestOutcome, Attestor } from '../attest/index.ts';
import type { ObserverConfig } from '../config/index.ts';
import type { AttestationReader, AttestationRecorder, RunRecords } from '../index/index.ts';
import { isRunGone, type RunApi } from '../kube/index.ts';
import { type AttemptContext, type Fence, type RunRecord, TRANSPARENCY } from '../model/index.ts';
import type { Logger } from '../observability/index.ts';
import type { Signer } from '../signing/index.ts';
import type { RunRef } from '../tekton/index.ts';
import { decisionsOf } from './decision-entries.ts';
import { recordAttestation } from './record.ts';
import type { RunReporter } from './run-reporter.ts';
import { type Effect, type RunOutcome, type Transition, transition } from './transition.ts';

export interface AttemptOutcomesOptions {
  config: Pick<ObserverConfig, 'maxAttempts' | 'retryBaseMs' | 'registryWaitSeconds'>;
  runApi: Pick<RunApi, 'patchAnnotations'>;
  index: AttestationRecorder &
    Pick<RunRecords, 'putRunRecord' | 'holdsClaim'> &
    Pick<AttestationReader, 'findByRun' | 'getEnvelope'>;
  attestor: Pick<Attestor, 'forget'>;
  report: RunReporter;
  clock: () => number;
  random: () => number;
}

/** Where an outcome lands: the run, its record as read, the claim it is written under. */
export interface OutcomeTarget {
  run: RunRef;
  /** the record as read before (undefined: none yet) */
  record: RunRecord | undefined;
  fence: Fence;
  log: Logger;
  /** the reconcile's context (its lane): the mark and the Events go in it */
  context?: AttemptContext;
  /** for `attested`: what the attempt produced, with which key, and when the run completed */
  attestation?: { outcome: AttestOutcome; signer: Signer; completedAt?: number };
}

export interface Applied {
  /** the record now (the one read before when nothing was written) */
  record: RunRecord | undefined;
  /** the record was written */
  saved: boolean;
  /** the claim had moved to another replica: nothing more was written */
  fenced?: boolean;
  requeueAfterMs?: number;
}

/**
 * Carries out what `transition()` decides for an outcome, effect by effect, in its order (the
 * order is what makes a crash between any two writes safe: an attestation's record, then the run's
 * mark, then its state). Every write is fenced by the claim: the record's write is conditional on
 * it, the writes outside the index (the attestation record, the run's mark) are made only after
 * the claim was seen held in this same application. A stale replica's writes stop at the first
 * refusal, are counted and logged, and never reach the run. A final decision (attested, adopted,
 * refused) is appended to the decision log with the record that carries it out (decision-entries.ts).
 */
export class AttemptOutcomes {
  readonly #o: AttemptOutcomesOptions;

  constructor(options: AttemptOutcomesOptions) {
    this.#o = options;
  }

  async apply(outcome: RunOutcome, at: OutcomeTarget): Promise<Applied> {
    const { config, clock, random } = this.#o;
    const t = transition(at.record, at.run, outcome, {
      now: clock(),
      maxAttempts: config.maxAttempts,
      retryBaseMs: config.retryBaseMs,
      registryWaitMs: config.registryWaitSeconds * 1000,
      random,
    });
    const state = { checked: false, saved: false, attestationId: undefined as string | undefined };
    for (const effect of t.effects)
      if (!(await this.#carryOut(effect, t, at, state))) {
        this.#o.report.fenced(at.run, outcome.kind, at.log);
        return { record: at.record, saved: false, fenced: true };
      }
    return {
      record: state.saved ? t.record : at.record,
      saved: state.saved,
      ...(t.requeueAfterMs !== undefined ? { requeueAfterMs: t.requeueAfterMs } : {}),
    };
  }

  /** One effect; false when the claim has moved on (the effect was not carried out). */
  async #carryOut(
    effect: Effect,
    t: Transition,
    at: OutcomeTarget,
    state: { checked: boolean; saved: boolean; attestationId: string | undefined },
  ): Promise<boolean> {
    const { index } = this.#o;
    switch (effect.kind) {
      case 'save':
        // the decision log's entries go in the record's own (fenced) transaction
        state.saved = await index.putRunRecord(t.record, at.fence, decisionsOf(t, at, this.#o.clock()));
        state.checked ||= state.saved;
        return state.saved;
      case 'record-attestation':
        if (!(await this.#holds(at, state))) return false;
        if (at.attestation)
          state.attestationId = await recordAttestation(
            index,
            at.run,
            at.attestation.outcome,
            at.attestation.signer,
            this.#o.clock(),
          );
        return true;
      case 'mark':
        if (!(await this.#holds(at, state))) return false;
        await this.#mark(at.run, marksOf(effect, at.attestation?.outcome), at.log, at.context);
        return true;
      case 'forget':
        this.#o.attestor.forget(at.run.uid);
        return true;
      case 'report':
        await this.#o.report.outcome(at.run, effect.report, at.log, {
          attestationId: state.attestationId,
          attestation: at.attestation,
          context: at.context,
        });
        return true;
      default:
        return effect satisfies never;
    }
  }

  /** Whether the claim still holds, asked once per application (a fenced save answers it too). */
  async #holds(at: OutcomeTarget, state: { checked: boolean }): Promise<boolean> {
    if (state.checked) return true;
    state.checked = await this.#o.index.holdsClaim(at.run.uid, at.fence);
    return state.checked;
  }

  /** Patches the run's annotations; a run deleted meanwhile (404, or 409: re-created) needs no mark. */
  async #mark(
    run: RunRef,
    marks: Record<string, string | null>,
    log: Logger,
    context: AttemptContext | undefined,
  ): Promise<void> {
    try {
      await this.#o.runApi.patchAnnotations(run, marks, run.uid, context);
    } catch (err) {
      if (!isRunGone(err)) throw err;
      log.info('the run is gone; not marking it');
    }
  }
}

/**
 * The annotations of a mark: with `stored`, what the backends ask the run to carry (the tekton
 * backend's payload and signature, in result order) and the Rekor entry, in the same patch: one
 * write of the run per attestation.
 */
function marksOf(
  effect: Extract<Effect, { kind: 'mark' }>,
  outcome: AttestOutcome | undefined,
): Record<string, string | null> {
  if (!effect.stored || !outcome) return effect.annotations;
  const stored = outcome.results.map((r) => (r.result.ok ? (r.result.runAnnotations ?? {}) : {}));
  return Object.assign(
    {},
    ...stored,
    effect.annotations,
    outcome.transparencyUrl ? { [TRANSPARENCY]: outcome.transparencyUrl } : {},
  );
}
