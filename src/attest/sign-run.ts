import type { ObserverConfig } from '../config/index.ts';
import {
  type ChildRun,
  imagesToSign,
  type Provenance,
  SealedProvenance,
  type SkippedInput,
} from '../formats/index.ts';
import { type AttemptContext, digestOfSet } from '../model/index.ts';
import {
  type CheckedImage,
  type CheckedSubject,
  type ClaimedSubject,
  type ExecutionCheckOutcome,
  SubjectGate,
  UNSET_SUBJECT_POLICY,
} from '../policy/index.ts';
import { pae, type Signer, shouldUpload, type TenantSigner, type TransparencyLog } from '../signing/index.ts';
import type { ImageRef, SignedArtifact } from '../storage/index.ts';
import type { RunRef, TektonRun } from '../tekton/index.ts';
import { type AdoptionVerifier, adoptProvenance, recordedExecutionCheck } from './adopt-provenance.ts';
import type { AttestationChecks } from './attestation-checks.ts';
import type { AttestationPlan } from './attestation-plan.ts';
import { buildRunProvenance } from './build-run-provenance.ts';
import {
  findLogged,
  logInRekor,
  type ProvenanceArtifact,
  signImage,
  signProvenance,
} from './sign-artifacts.ts';
import { step } from './step.ts';
import type { PipelineTelemetry } from './telemetry.ts';

/** Everything one run's attestation signed: stored as it is, again if need be, never re-signed. */
export interface SignedRun {
  artifacts: SignedArtifact[];
  statement?: SealedProvenance['statement'];
  skipped: SkippedInput[];
  /** the execution-check outcome written into the provenance */
  executionCheck?: ExecutionCheckOutcome;
  /** Rekor entry URL of the provenance, for chains.tekton.dev/transparency */
  transparencyUrl?: string;
  /** the provenance envelope is the one the run already carried, signed by a published key */
  adopted?: boolean;
}

export interface SignRunDeps {
  config: ObserverConfig;
  /** where the pipeline's steps are told (the one subscriber owning their metrics) */
  telemetry: PipelineTelemetry;
  /** the Rekor client, when transparency is configured */
  transparencyLog?: () => TransparencyLog | undefined;
  /** checks signatures against the published keys; with it, a run's own valid envelope is adopted */
  verifies?: AdoptionVerifier;
  /** the checks before signing (attestation-checks.ts); none = everything as the run claims */
  checks?: Pick<AttestationChecks, 'execution' | 'subjects'>;
  /**
   * The tenant key that also signs this run's statements (`signing.tenant-keys`), resolved per
   * attempt (a rotation applies at the next one); undefined = platform key only. Throws
   * key_unavailable (retryable) when the run's tenant has no usable key. Default: none.
   */
  tenantSigner?: (run: RunRef, context?: AttemptContext) => Promise<TenantSigner | undefined>;
}

/**
 * The signing half of the pipeline as named steps: check what ran → build provenance → every
 * subject and image through the subject gate (grammar, policy, existence) → seal the statement with
 * the checked subjects only (SealedProvenance) → look the payload up in Rekor → sign
 * (DSSE) unless our key logged it already → log in Rekor, then sign
 * each kept built image's simplesigning payload, as the plan says. Each step runs through step():
 * timed and told to the telemetry once, its failure counted
 * in Chains' signing_failures_total and thrown as a coded ObserverError.
 */
export async function signRun(
  deps: SignRunDeps,
  plan: AttestationPlan,
  run: { ref: RunRef; object: TektonRun; children: readonly ChildRun[] },
  signer: Signer,
  context?: AttemptContext,
): Promise<SignedRun> {
  const { telemetry, checks } = deps;
  const signed: SignedRun = { artifacts: [], skipped: [] };
  signed.executionCheck = await step(telemetry, run.ref, 'check', () =>
    checks?.execution(run.ref, run.object, context, run.children),
  );
  const provenance = plan.provenance;
  const built = provenance
    ? await step(
        telemetry,
        run.ref,
        'extract',
        () =>
          buildRunProvenance(
            { ...deps, format: provenance.format },
            run.ref,
            run.object,
            run.children,
            signed.executionCheck,
          ),
        { errorType: 'payload_creation' },
      )
    : undefined;
  const toSign = plan.imageSignatures && run.object.kind === 'TaskRun' ? imagesToSign(run.object) : undefined;
  const gated = await step(telemetry, run.ref, 'check', () =>
    gateSubjects(deps, run.ref, built, toSign?.images, context),
  );
  signed.skipped.push(...gated.skipped);
  const tenant = await step(telemetry, run.ref, 'sign', async () => deps.tenantSigner?.(run.ref, context), {
    errorType: 'signing',
  });
  if (built) {
    const own = await adoptOwn(deps, plan, run, SealedProvenance.of(built, gated.statement), signed);
    const { provenance } = own;
    const adopted = own.adopted && (await withTenantSignature(deps, own.adopted, tenant));
    signed.skipped.push(...built.skipped);
    signed.statement = provenance.statement;
    const { artifact, transparencyUrl } = await signAndLog(deps, run, provenance, adopted, signer, tenant);
    signed.adopted = !!adopted;
    signed.transparencyUrl = transparencyUrl;
    signed.artifacts.push(artifact);
  }
  if (toSign) {
    for (const s of toSign.skipped)
      if (!signed.skipped.some((k) => k.source === s.source && k.code === s.code)) signed.skipped.push(s);
    // one `.sig` layer per key: the platform's, then the tenant's
    for (const image of gated.images)
      for (const by of tenant ? [undefined, tenant] : [undefined])
        signed.artifacts.push(
          await step(telemetry, run.ref, 'sign', () => signImage(run.ref, image, signer, by), {
            errorType: 'signing',
          }),
        );
  }
  telemetry.emit({ type: 'signed', run: run.ref, artifacts: signed.artifacts.length });
  return signed;
}

/** Without configured checks: no policy (Chains' behaviour), no existence check; still one grammar. */
const UNCHECKED_GATE = new SubjectGate({ policy: UNSET_SUBJECT_POLICY });

/**
 * The built statement sealed offline (the `generate` CLI): its subjects through the subject gate
 * without a policy or an existence check, as the service does without configured checks, so what
 * `generate --key` signs went through the same door as what the service signs.
 */
export async function sealOffline(
  run: RunRef,
  built: Provenance,
): Promise<{ sealed: SealedProvenance; skipped: SkippedInput[] }> {
  const gated = await gateSubjects({}, run, built, undefined);
  return { sealed: SealedProvenance.of(built, gated.statement), skipped: gated.skipped };
}

/**
 * Every subject of the built statement and every image to sign, through the one subject gate:
 * what comes back checked is all the signer will see (`statement` for the provenance, `images` for
 * `.sig`); the rest is skipped with its reason code.
 */
async function gateSubjects(
  deps: Pick<SignRunDeps, 'checks'>,
  run: RunRef,
  built: Provenance | undefined,
  images: readonly ImageRef[] | undefined,
  context?: AttemptContext,
): Promise<{ statement: CheckedSubject[]; images: CheckedImage[]; skipped: SkippedInput[] }> {
  const subjects = built?.statement.subject ?? [];
  const claims: ClaimedSubject[] = [
    ...subjects.map((s) => ({
      source: `${run.kind}/${run.name} subject`,
      name: s.name ?? s.uri ?? '',
      digest: digestOfSet(s.digest) ?? '(not exactly one digest)',
    })),
    ...(images ?? []).map((i) => ({
      source: `${run.kind}/${run.name} image`,
      name: i.repository,
      digest: i.digest,
      image: true,
    })),
  ];
  const gate = await (deps.checks
    ? deps.checks.subjects(run, claims, context)
    : UNCHECKED_GATE.check(run, claims, context));
  const defined = <T>(v: T | undefined): v is T => v !== undefined;
  return {
    statement: gate.verdicts.slice(0, subjects.length).filter(defined),
    images: gate.verdicts.slice(subjects.length).filter((v): v is CheckedImage => v?.kind === 'oci'),
    skipped: gate.skipped,
  };
}

/**
 * The run's own envelope, when it is the statement built now (adoptProvenance). When the execution
 * check now finds no Pod (pruned since the run was attested), the statement is rebuilt with the
 * outcome the envelope recorded and adopted if that matches; the recorded outcome then stands.
 */
async function adoptOwn(
  deps: SignRunDeps,
  plan: AttestationPlan,
  run: { ref: RunRef; object: TektonRun; children: readonly ChildRun[] },
  provenance: SealedProvenance,
  signed: SignedRun,
): Promise<{ provenance: SealedProvenance; adopted?: ProvenanceArtifact }> {
  const { verifies } = deps;
  const annotations = run.object.metadata?.annotations ?? {};
  if (!verifies) return { provenance };
  const adopted = await adoptProvenance(run.ref, annotations, provenance, verifies);
  if (adopted || signed.executionCheck?.result !== 'pod_not_found' || !plan.provenance)
    return { provenance, adopted };
  const recorded = recordedExecutionCheck(run.ref, annotations);
  if (!recorded) return { provenance };
  const format = { ...deps, format: plan.provenance.format };
  const rebuilt = SealedProvenance.of(
    await step(
      deps.telemetry,
      run.ref,
      'extract',
      () => buildRunProvenance(format, run.ref, run.object, run.children, recorded),
      { errorType: 'payload_creation' },
    ),
    provenance.subjects,
  );
  const again = await adoptProvenance(run.ref, annotations, rebuilt, verifies);
  if (!again) return { provenance };
  signed.executionCheck = recorded;
  return { provenance: rebuilt, adopted: again };
}

/**
 * The provenance envelope and its Rekor entry URL (when transparency applies to the run). An adopted
 * envelope is uploaded as usual, since the run's transparency annotation is tenant-writable (an
 * identical envelope gets its existing entry back, 409). Otherwise the entry our key already logged
 * for the payload is reused: nothing signed, nothing uploaded (findLogged). Else: sign, upload.
 */
async function signAndLog(
  deps: SignRunDeps,
  run: { ref: RunRef; object: TektonRun },
  provenance: SealedProvenance,
  adopted: ProvenanceArtifact | undefined,
  signer: Signer,
  tenant: TenantSigner | undefined,
): Promise<{ artifact: ProvenanceArtifact; transparencyUrl?: string | undefined }> {
  const log = transparencyLog(deps, run.object);
  // an entry logged with the platform key alone cannot give back the tenant's signature
  const logged =
    log && !adopted && !tenant
      ? await step(deps.telemetry, run.ref, 'tlog', () => findLogged(run.ref, log, provenance, signer), {
          errorType: 'tlog',
        })
      : undefined;
  if (logged) return { artifact: logged.artifact, transparencyUrl: logged.url };
  const artifact =
    adopted ||
    (await step(deps.telemetry, run.ref, 'sign', () => signProvenance(run.ref, provenance, signer, tenant), {
      errorType: 'signing',
    }));
  return { artifact, transparencyUrl: log && (await upload(deps, run.ref, log, artifact, signer)) };
}

/**
 * An adopted envelope of a run with a tenant key, when it also carries a valid signature of that
 * tenant's keys (then recorded as such); undefined otherwise, and the statement is signed anew
 * with both keys. Without a tenant key: the envelope as it is.
 */
async function withTenantSignature(
  deps: SignRunDeps,
  adopted: ProvenanceArtifact,
  tenant: TenantSigner | undefined,
): Promise<ProvenanceArtifact | undefined> {
  if (!tenant) return adopted;
  const { verifies } = deps;
  const message = pae(adopted.envelope.payloadType, adopted.payload);
  for (const s of adopted.envelope.signatures) {
    const sig = Buffer.from(s.sig, 'base64');
    if (verifies && (await verifies(message, sig, tenant.tenant)))
      return { ...adopted, tenant: tenant.tenant, tenantKeyId: tenant.signer.keyId };
  }
  return undefined;
}

/** The Rekor log when transparency is on, or manual and the run asks for it. */
function transparencyLog(deps: SignRunDeps, object: TektonRun): TransparencyLog | undefined {
  const log = deps.transparencyLog?.();
  const annotations = object.metadata?.annotations ?? {};
  return log && shouldUpload(deps.config.transparency.mode, annotations) ? log : undefined;
}

async function upload(
  deps: SignRunDeps,
  run: RunRef,
  log: TransparencyLog,
  artifact: ProvenanceArtifact,
  signer: Signer,
): Promise<string> {
  const url = await step(deps.telemetry, run, 'tlog', () => logInRekor(run, log, artifact, signer), {
    errorType: 'tlog',
  });
  deps.telemetry.emit({ type: 'uploaded', run });
  return url;
}
