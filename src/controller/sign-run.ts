import type { ObserverConfig } from '../config/index.ts';
import { type ChildRun, imagesToSign, type Provenance, type SkippedInput } from '../formats/index.ts';
import type { ChainsErrorType, Metrics } from '../observability/index.ts';
import { type Signer, shouldUpload, type TransparencyLog } from '../signing/index.ts';
import type { SignedArtifact } from '../storage/index.ts';
import type { RunRef, TektonRun } from '../tekton/index.ts';
import type { AttestationPlan } from './attestation-plan.ts';
import { buildRunProvenance } from './build-run-provenance.ts';
import { logInRekor, type ProvenanceArtifact, signImage, signProvenance } from './sign-artifacts.ts';
import { timedStage } from './store-artifact.ts';

/** Everything one run's attestation signed: stored as it is, again if need be, never re-signed. */
export interface SignedRun {
  artifacts: SignedArtifact[];
  statement?: Provenance['statement'];
  skipped: SkippedInput[];
  /** Rekor entry URL of the provenance, for chains.tekton.dev/transparency */
  transparencyUrl?: string;
}

export interface SignRunDeps {
  config: ObserverConfig;
  metrics: Metrics;
  /** the Rekor client, when transparency is configured */
  transparencyLog?: () => TransparencyLog | undefined;
}

/**
 * The signing half of the pipeline as named steps: build provenance → sign (DSSE) → log in Rekor,
 * then sign each built image's simplesigning payload, as the plan says. Each step's failure is
 * counted in Chains' signing_failures_total and thrown as a coded ObserverError.
 */
export async function signRun(
  deps: SignRunDeps,
  plan: AttestationPlan,
  run: { ref: RunRef; object: TektonRun; children: readonly ChildRun[] },
  signer: Signer,
): Promise<SignedRun> {
  const { metrics } = deps;
  const signed: SignedRun = { artifacts: [], skipped: [] };
  if (plan.provenance) {
    const options = { ...deps, format: plan.provenance.format };
    const provenance = await timedStage(metrics, 'extract', () =>
      buildRunProvenance(options, run.ref, run.object, run.children),
    );
    signed.skipped.push(...provenance.skipped);
    signed.statement = provenance.statement;
    const artifact = await timedStage(metrics, 'sign', () =>
      counted(deps, run.ref, 'signing', () => signProvenance(run.ref, provenance, signer)),
    );
    signed.transparencyUrl = await upload(deps, run.ref, run.object, artifact, signer);
    signed.artifacts.push(artifact);
  }
  if (plan.imageSignatures && run.object.kind === 'TaskRun') {
    const { images, skipped } = imagesToSign(run.object);
    for (const s of skipped)
      if (!signed.skipped.some((k) => k.source === s.source && k.code === s.code)) signed.skipped.push(s);
    for (const image of images)
      signed.artifacts.push(
        await timedStage(metrics, 'sign', () =>
          counted(deps, run.ref, 'signing', () => signImage(run.ref, image, signer)),
        ),
      );
  }
  for (const _ of signed.artifacts) metrics.chains[run.ref.kind].signCreated.inc();
  return signed;
}

/** Rekor upload when transparency is on, or manual and the run asks for it. */
async function upload(
  deps: SignRunDeps,
  run: RunRef,
  object: TektonRun,
  artifact: ProvenanceArtifact,
  signer: Signer,
): Promise<string | undefined> {
  const log = deps.transparencyLog?.();
  const annotations = object.metadata?.annotations ?? {};
  if (!log || !shouldUpload(deps.config.transparency.mode, annotations)) return undefined;
  const url = await counted(deps, run, 'tlog', () => logInRekor(run, log, artifact, signer));
  deps.metrics.chains[run.kind].payloadUploaded.inc();
  return url;
}

/** Counts a failure of `fn` in Chains' signing_failures_total{error_type}. */
async function counted<T>(
  deps: SignRunDeps,
  run: RunRef,
  errorType: ChainsErrorType,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    deps.metrics.chains[run.kind].signingFailures.inc({ error_type: errorType });
    throw err;
  }
}
