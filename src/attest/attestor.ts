import { BoundedCache } from '../cache/index.ts';
import type { ObserverConfig } from '../config/index.ts';
import type { ChildRun, Provenance, SkippedInput } from '../formats/index.ts';
import { type AttemptContext, type AttestationOrigin, NO_ATTEMPT } from '../model/index.ts';
import type { Metrics } from '../observability/index.ts';
import type { ExecutionCheckOutcome } from '../policy/index.ts';
import type { Signer, TenantSigner, TransparencyLog } from '../signing/index.ts';
import type { BackendName, Destination, SignedArtifact } from '../storage/index.ts';
import type { RunRef, TektonRun } from '../tekton/index.ts';
import type { AdoptionVerifier } from './adopt-provenance.ts';
import type { AttestationChecks } from './attestation-checks.ts';
import { planAttestation } from './attestation-plan.ts';
import type { ChainsAdopter, ChainsVerdict } from './chains-adopter.ts';
import { type SignedRun, signRun } from './sign-run.ts';
import { type Stored, storeWhereMissing } from './store-signed.ts';
import { MetricsTelemetry, type PipelineTelemetry } from './telemetry.ts';

/** What one attempt produced: the artifacts signed, one result per artifact and backend. */
export interface AttestOutcome {
  provenance?: {
    artifact: Extract<SignedArtifact, { type: 'provenance' }>;
    statement: Provenance['statement'];
  };
  results: Stored[];
  skipped: SkippedInput[];
  /** the execution-check outcome recorded in the provenance (TaskRuns, check not off) */
  executionCheck?: ExecutionCheckOutcome;
  /** Rekor entry URL when the provenance was uploaded (chains.tekton.dev/transparency) */
  transparencyUrl?: string;
  /** true when every enabled artifact was stored in every configured backend */
  ok: boolean;
  /** the provenance is the envelope the run already carried (signed by a published key): no alarm */
  adopted: boolean;
  /** who signed the provenance: we did (default), or Tekton Chains and it was adopted (chains-adopter.ts) */
  origin?: AttestationOrigin;
}

export interface AttestorOptions {
  config: ObserverConfig;
  /** where each configured storage name sends an artifact (backendsFromConfig) */
  backends: ReadonlyMap<BackendName, Destination>;
  metrics: Metrics;
  /** where the pipeline's steps are told; default MetricsTelemetry on `metrics` (the one owner of their metrics) */
  telemetry?: PipelineTelemetry;
  /** the Rekor client, when transparency is configured (it may come and go with config) */
  transparencyLog?: () => TransparencyLog | undefined;
  /** checks signatures against the published keys: a run's own valid envelope is adopted, not re-signed */
  verifies?: AdoptionVerifier;
  /** subject policy, subject existence and execution checks; default none (everything as claimed) */
  checks?: Pick<AttestationChecks, 'execution' | 'subjects'>;
  /** the tenant key that also signs a run (`signing.tenant-keys`, sign-run.ts); default none */
  tenantSigner?: (run: RunRef, context?: AttemptContext) => Promise<TenantSigner | undefined>;
  /** adopts runs Tekton Chains signed (chains-adopter.ts); default none (adoption off) */
  chains?: ChainsAdopter;
}

/** A run whose attestation is not stored everywhere yet: what was signed, and where it is. */
interface Pending {
  signed: SignedRun;
  /** `type/key/backend` → the successful result */
  stored: Map<string, Stored>;
}

/**
 * The attestation pipeline: plan → sign (sign-run.ts) → store (store-signed.ts). Pure of
 * Kubernetes: it is handed the run (and children) and returns per-backend results. A run's signed
 * artifacts are kept between attempts (the least recently attempted PENDING_LIMIT runs) so a
 * retry stores the *same* envelope again, only in the backends that failed: no extra layers from
 * re-signing.
 */
export class Attestor {
  static readonly PENDING_LIMIT = 1000;
  readonly #o: AttestorOptions & { telemetry: PipelineTelemetry };
  readonly #pending = new BoundedCache<Pending>({ maxEntries: Attestor.PENDING_LIMIT });

  constructor(options: AttestorOptions) {
    this.#o = { ...options, telemetry: options.telemetry ?? new MetricsTelemetry(options.metrics) };
  }

  /**
   * `context`: the attempt (its lane, and its deadline's signal). The checks and every backend get
   * it, so every registry and apiserver request of the attempt (existence checks, tokens, stores)
   * goes in its lane and is aborted with its signal; the signal is checked between signing and
   * storing too, so an attempt past its deadline holds no connection and stores nothing more.
   */
  async attest(
    run: RunRef,
    object: TektonRun,
    children: ChildRun[],
    signer: Signer,
    context: AttemptContext = NO_ATTEMPT,
  ): Promise<AttestOutcome> {
    const plan = planAttestation(this.#o.config, run.kind);
    const pending = this.#pending.get(run.uid) ?? {
      signed: await signRun(this.#o, plan, { ref: run, object, children }, signer, context),
      stored: new Map(),
    };
    this.#pending.set(run.uid, pending);
    context.signal?.throwIfAborted();
    const { signed, stored } = pending;
    const failures = await storeWhereMissing(this.#o, plan, run, signed.artifacts, stored, context);
    const ok = failures.length === 0;
    if (ok) this.#pending.delete(run.uid);
    const provenance = signed.artifacts.find((a) => a.type === 'provenance');
    return {
      provenance:
        provenance && signed.statement ? { artifact: provenance, statement: signed.statement } : undefined,
      results: [...stored.values(), ...failures],
      skipped: signed.skipped,
      executionCheck: signed.executionCheck,
      transparencyUrl: signed.transparencyUrl,
      ok,
      adopted: signed.adopted ?? false,
    };
  }

  /**
   * For a run that says Chains signed it and the index does not know: whether Chains' envelope on
   * it verifies with Chains' configured key(s) (ChainsAdopter). `off` without an adopter or keys.
   */
  adoptChains(
    run: RunRef,
    object: TektonRun,
    completedAt: number | undefined,
    context: AttemptContext = NO_ATTEMPT,
  ): Promise<ChainsVerdict> {
    return this.#o.chains?.adopt(run, object, completedAt, context) ?? Promise.resolve({ kind: 'off' });
  }

  /** Forgets a run's signed artifacts (it was deleted, or gave up). */
  forget(uid: string): void {
    this.#pending.delete(uid);
  }
}
