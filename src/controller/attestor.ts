import { artifactEnabled, type ObserverConfig } from '../config/index.ts';
import { asObserverError, ObserverError } from '../errors.ts';
import {
  buildProvenance,
  type ChildRun,
  imagesToSign,
  type Provenance,
  type ProvenanceInput,
  type SkippedInput,
  withoutSubjects,
} from '../formats/index.ts';
import type { ChainsErrorType, Metrics } from '../observability/index.ts';
import type { ExecutionCheckOutcome } from '../policy/index.ts';
import { type Signer, shouldUpload, type TransparencyLog } from '../signing/index.ts';
import type { BackendName, SignedArtifact, StorageBackend, StoreResult } from '../storage/index.ts';
import type { TaskRun, TektonRun } from '../tekton/index.ts';
import type { RunRef } from '../tekton/run-ref.ts';
import type { AttestationChecks } from './attestation-checks.ts';
import { logInRekor, type ProvenanceArtifact, signImage, signProvenance } from './sign-artifacts.ts';
import { storeArtifact, timedStage } from './store-artifact.ts';

/** A run's signed artifacts and what has been stored so far, kept across attempts. */
interface SignedRun {
  artifacts: SignedArtifact[];
  statement?: Provenance['statement'];
  skipped: SkippedInput[];
  executionCheck?: ExecutionCheckOutcome;
  /** Rekor entry URL of the provenance, for chains.tekton.dev/transparency */
  transparencyUrl?: string;
  /** `type/key/backend` → the successful result */
  stored: Map<string, AttestOutcome['results'][number]>;
}

/** What one attempt produced: the artifacts signed, one result per artifact and backend. */
export interface AttestOutcome {
  provenance?: {
    artifact: Extract<SignedArtifact, { type: 'provenance' }>;
    statement: Provenance['statement'];
  };
  results: { artifact: SignedArtifact; result: StoreResult }[];
  skipped: SkippedInput[];
  /** the execution-check outcome recorded in the provenance (TaskRuns, check not off) */
  executionCheck?: ExecutionCheckOutcome;
  /** Rekor entry URL when the provenance was uploaded (chains.tekton.dev/transparency) */
  transparencyUrl?: string;
  /** true when every enabled artifact was stored in every configured backend */
  ok: boolean;
}

export interface AttestorOptions {
  config: ObserverConfig;
  backends: ReadonlyMap<BackendName, StorageBackend>;
  metrics: Metrics;
  /** the Rekor client, when transparency is configured (it may come and go with config) */
  transparencyLog?: () => TransparencyLog | undefined;
  /** subject policy, subject existence and execution checks; default none (everything as claimed) */
  checks?: Pick<AttestationChecks, 'execution' | 'subjects'>;
}

/**
 * The attestation pipeline as named steps: plan → build provenance → sign → store.
 * Pure of Kubernetes: it is handed the run (and children) and returns per-backend results.
 * Signed artifacts of a run are kept between attempts (bounded) so a retry stores the *same*
 * envelope again, only in the backends that failed: no extra layers from re-signing.
 */
export class Attestor {
  readonly #o: AttestorOptions;
  readonly #pending = new Map<string, SignedRun>();
  static readonly PENDING_LIMIT = 1000;

  constructor(options: AttestorOptions) {
    this.#o = options;
  }

  async attest(run: RunRef, object: TektonRun, children: ChildRun[], signer: Signer): Promise<AttestOutcome> {
    const signed = this.#pending.get(run.uid) ?? (await this.#signAll(run, object, children, signer));
    this.#remember(run.uid, signed);
    const failures: AttestOutcome['results'] = [];
    for (const artifact of signed.artifacts) {
      for (const backend of this.#backendsFor(run, artifact)) {
        const id = `${artifact.type}/${artifact.key}/${backend.name}`;
        if (signed.stored.has(id)) continue;
        const result = await storeArtifact(backend, run, artifact, this.#o.metrics);
        if (result.ok) signed.stored.set(id, { artifact, result });
        else failures.push({ artifact, result });
      }
    }
    const results = [...signed.stored.values(), ...failures];
    const ok = failures.length === 0;
    if (ok) this.#pending.delete(run.uid);
    const provenance = signed.artifacts.find((a) => a.type === 'provenance');
    return {
      provenance:
        provenance && signed.statement ? { artifact: provenance, statement: signed.statement } : undefined,
      results,
      skipped: signed.skipped,
      executionCheck: signed.executionCheck,
      transparencyUrl: signed.transparencyUrl,
      ok,
    };
  }

  /** Forgets a run's signed artifacts (it was deleted, or gave up). */
  forget(uid: string): void {
    this.#pending.delete(uid);
  }

  /** Which artifact types are on for this kind (Chains' Artifact.Enabled()). */
  #plan(run: RunRef): { provenance: boolean; imageSignatures: boolean } {
    const c = this.#o.config;
    const kindConfig = run.kind === 'TaskRun' ? c.taskrun : c.pipelinerun;
    return {
      provenance: artifactEnabled(kindConfig),
      imageSignatures: run.kind === 'TaskRun' && artifactEnabled(c.oci),
    };
  }

  async #signAll(run: RunRef, object: TektonRun, children: ChildRun[], signer: Signer): Promise<SignedRun> {
    const plan = this.#plan(run);
    const artifacts: SignedArtifact[] = [];
    const skipped: SkippedInput[] = [];
    let statement: Provenance['statement'] | undefined;
    let transparencyUrl: string | undefined;
    const checks = this.#o.checks;
    const executionCheck = await timedStage(this.#o.metrics, 'check', () => checks?.execution(run, object));
    const built = plan.provenance
      ? await timedStage(this.#o.metrics, 'extract', () => this.#build(run, object, children, executionCheck))
      : undefined;
    const toSign = plan.imageSignatures ? imagesToSign(object as TaskRun) : undefined;
    const gate = await timedStage(this.#o.metrics, 'check', () =>
      checks?.subjects(run, [...(built?.images ?? []), ...(toSign?.images ?? [])]),
    );
    skipped.push(...(gate?.skipped ?? []));
    if (built) {
      const provenance = withoutSubjects(built, gate?.rejected ?? []);
      skipped.push(...provenance.skipped);
      statement = provenance.statement;
      const artifact = await timedStage(this.#o.metrics, 'sign', () =>
        this.#counted(run, 'signing', () => signProvenance(run, provenance, signer)),
      );
      transparencyUrl = await this.#logInRekor(run, object, artifact, signer);
      artifacts.push(artifact);
    }
    if (toSign) {
      for (const s of toSign.skipped)
        if (!skipped.some((k) => k.source === s.source && k.code === s.code)) skipped.push(s);
      const rejected = gate?.rejected ?? [];
      const images = toSign.images.filter(
        (i) => !rejected.some((r) => r.repository === i.repository && r.digest === i.digest),
      );
      for (const image of images)
        artifacts.push(
          await timedStage(this.#o.metrics, 'sign', () =>
            this.#counted(run, 'signing', () => signImage(run, image, signer)),
          ),
        );
    }
    for (const _ of artifacts) this.#o.metrics.chains[run.kind].signCreated.inc();
    return {
      artifacts,
      statement,
      skipped,
      executionCheck,
      transparencyUrl,
      stored: new Map(),
    } satisfies SignedRun;
  }

  #build(
    run: RunRef,
    object: TektonRun,
    children: ChildRun[],
    executionCheck: ExecutionCheckOutcome | undefined,
  ): Provenance {
    const c = this.#o.config;
    const input: ProvenanceInput =
      run.kind === 'TaskRun'
        ? { kind: 'TaskRun', run: object as TaskRun, executionCheck }
        : { kind: 'PipelineRun', run: object as never, children };
    const format = run.kind === 'TaskRun' ? c.taskrun.format : c.pipelinerun.format;
    try {
      return buildProvenance(input, {
        format,
        builderId: c.builderId,
        buildType: c.buildType,
        deepInspection: c.pipelinerun.deepInspection,
      });
    } catch (err) {
      this.#o.metrics.chains[run.kind].signingFailures.inc({ error_type: 'payload_creation' });
      throw asObserverError(err, {
        code: 'payload_creation',
        retryable: false,
        context: `building provenance for ${run.kind} ${run.namespace}/${run.name}`,
      });
    }
  }

  /** Rekor upload when transparency is on, or manual and the run asks for it. */
  async #logInRekor(run: RunRef, object: TektonRun, artifact: ProvenanceArtifact, signer: Signer) {
    const log = this.#o.transparencyLog?.();
    const annotations = (object.metadata?.annotations ?? {}) as Record<string, string>;
    if (!log || !shouldUpload(this.#o.config.transparency.mode, annotations)) return undefined;
    const url = await this.#counted(run, 'tlog', () => logInRekor(run, log, artifact, signer));
    this.#o.metrics.chains[run.kind].payloadUploaded.inc();
    return url;
  }

  /** Counts a failure of `fn` in Chains' signing_failures_total{error_type}. */
  async #counted<T>(run: RunRef, errorType: ChainsErrorType, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      this.#o.metrics.chains[run.kind].signingFailures.inc({ error_type: errorType });
      throw err;
    }
  }

  #backendsFor(run: RunRef, artifact: SignedArtifact): StorageBackend[] {
    const c = this.#o.config;
    const names =
      artifact.type === 'image-signature'
        ? c.oci.storage
        : run.kind === 'TaskRun'
          ? c.taskrun.storage
          : c.pipelinerun.storage;
    return names.map((name) => {
      const backend = this.#o.backends.get(name);
      if (!backend)
        throw new ObserverError(`storage backend "${name}" is configured but not available`, {
          code: 'config_invalid',
          retryable: false,
        });
      return backend;
    });
  }

  #remember(uid: string, signed: SignedRun): void {
    this.#pending.delete(uid);
    this.#pending.set(uid, signed);
    while (this.#pending.size > Attestor.PENDING_LIMIT)
      this.#pending.delete(this.#pending.keys().next().value as string);
  }
}
