import { asObserverError } from '../errors.ts';
import { type PolicyStatement, type SealedProvenance, simpleSigningPayload } from '../formats/index.ts';
import { INTOTO_PAYLOAD_TYPE } from '../intoto/index.ts';
import type { CheckedImage } from '../policy/index.ts';
import {
  envelopeOf,
  type SignedEnvelope,
  type Signer,
  signEnvelope,
  signEnvelopeBy,
  signRaw,
  type TenantSigner,
  type TransparencyLog,
} from '../signing/index.ts';
import type { SignedArtifact } from '../storage/index.ts';
import { describeRun, type RunRef, runShortKey } from '../tekton/index.ts';

export type ProvenanceArtifact = Extract<SignedArtifact, { type: 'provenance' }>;

/**
 * Signs the sealed statement's bytes as a DSSE envelope: the only way a statement reaches the key,
 * and it takes only a SealedProvenance (subjects that passed the subject gate). With a tenant key
 * (`signing.tenant-keys`) the envelope carries two signatures over the same PAE: the platform's
 * first, then the tenant's. Errors are `signing` (retryable) and name the run (and the tenant).
 */
export async function signProvenance(
  run: RunRef,
  provenance: SealedProvenance,
  signer: Signer,
  tenant?: TenantSigner,
): Promise<ProvenanceArtifact> {
  try {
    const signers = tenant ? [signer, tenant.signer] : [signer];
    const signed = await signEnvelopeBy(provenance.payload, INTOTO_PAYLOAD_TYPE, signers);
    const artifact = {
      ...provenanceArtifact(run, provenance, signed, signed.signature),
      keyId: signer.keyId,
    };
    return tenant ? { ...artifact, tenant: tenant.tenant, tenantKeyId: tenant.signer.keyId } : artifact;
  } catch (err) {
    const by = tenant ? ` (platform key and tenant key ${tenant.tenant})` : '';
    throw asObserverError(err, {
      code: 'signing',
      retryable: true,
      context: `signing ${describeRun(run)}${by}`,
    });
  }
}

/**
 * Signs the subject policy statement (formats/policy-statement.ts) as a DSSE envelope with the
 * platform key. It names no run subject, so it needs no gate; it goes through this door so that
 * this file stays the only caller of the signing primitives. Errors are `signing` (retryable).
 */
export async function signPolicyStatement(
  statement: PolicyStatement,
  signer: Signer,
): Promise<SignedEnvelope> {
  try {
    return await signEnvelope(statement.payload, INTOTO_PAYLOAD_TYPE, signer);
  } catch (err) {
    throw asObserverError(err, {
      code: 'signing',
      retryable: true,
      context: `signing the subject policy statement ${statement.statement.predicate.version}`,
    });
  }
}

/**
 * The provenance envelope our key already logged in Rekor for this payload (a run attested before
 * a crash, an emptied index, or by another replica), with its entry: stored with that signature and
 * bundle, it needs no new signature and no new entry. Keyless signing is not looked up: each
 * signature has a fresh Fulcio key, and reusing one would need the certificate chain and identity
 * checked too. A failed lookup is `tlog` (retryable), as a failed upload (rekor-lookup.ts says why).
 */
export async function findLogged(
  run: RunRef,
  log: TransparencyLog,
  provenance: SealedProvenance,
  signer: Signer,
): Promise<{ artifact: ProvenanceArtifact; url: string } | undefined> {
  if (!signer.publicKeyPem) return undefined;
  try {
    const found = await log.findEnvelope(provenance.payload, INTOTO_PAYLOAD_TYPE, signer);
    if (!found) return undefined;
    const envelope = envelopeOf(provenance.payload, INTOTO_PAYLOAD_TYPE, signer.keyId, found.signature);
    const artifact = { ...provenanceArtifact(run, provenance, envelope, signer), keyId: signer.keyId };
    artifact.rekorBundle = JSON.stringify(found.entry.bundle);
    return { artifact, url: found.entry.url };
  } catch (err) {
    throw asObserverError(err, {
      code: 'tlog',
      retryable: true,
      context: `looking up the provenance of ${describeRun(run)} in the transparency log`,
    });
  }
}

function provenanceArtifact(
  run: RunRef,
  provenance: SealedProvenance,
  { envelope, envelopeBytes }: Pick<SignedEnvelope, 'envelope' | 'envelopeBytes'>,
  certified: { certificatePem?: string | undefined; chainPem?: string | undefined },
): ProvenanceArtifact {
  return {
    type: 'provenance',
    key: runShortKey(run.kind, run.uid),
    predicateType: provenance.statement.predicateType,
    payload: provenance.payload,
    envelope,
    envelopeBytes,
    images: provenance.images,
    certificatePem: certified.certificatePem,
    chainPem: certified.chainPem,
  };
}

/**
 * Signs cosign's simplesigning payload for one image (Chains' OCI artifact); key = 12 hex of the
 * digest. Takes only a CheckedImage: an image that passed the subject gate. With `tenant` the
 * tenant's key signs instead of the platform's: its own `.sig` layer (`signedBy`), keyed
 * `<12 hex>-<tenant>`, stored beside the platform's (docs/keys.md says why two layers).
 */
export async function signImage(
  run: RunRef,
  image: CheckedImage,
  signer: Signer,
  tenant?: TenantSigner,
): Promise<SignedArtifact> {
  const payload = simpleSigningPayload(image);
  const hex12 = image.digest.replace(/^sha256:/, '').slice(0, 12);
  try {
    const signature = await signRaw(payload, tenant ? tenant.signer : signer);
    return {
      type: 'image-signature',
      key: tenant ? `${hex12}-${tenant.tenant}` : hex12,
      image,
      payload,
      signature: signature.signature,
      certificatePem: signature.certificatePem,
      chainPem: signature.chainPem,
      ...(tenant ? { signedBy: tenant.tenant } : {}),
    };
  } catch (err) {
    throw asObserverError(err, {
      code: 'signing',
      retryable: true,
      context: `signing image ${image.repository}@${image.digest} of ${describeRun(run)}${tenant ? ` with tenant key ${tenant.tenant}` : ''}`,
    });
  }
}

/**
 * Logs the provenance envelope in Rekor (after signing, before storage, as Chains does) and puts
 * the cosign RekorBundle on the artifact for the OCI layer annotation. Returns the entry URL for
 * chains.tekton.dev/transparency. A failure is `tlog` (retryable): nothing is marked signed
 * without its entry.
 */
export async function logInRekor(
  run: RunRef,
  log: TransparencyLog,
  artifact: ProvenanceArtifact,
  signer: Signer,
): Promise<string> {
  try {
    const entry = await log.uploadEnvelope(
      artifact.envelope,
      { signature: new Uint8Array(), certificatePem: artifact.certificatePem },
      signer.publicKeyPem,
    );
    artifact.rekorBundle = JSON.stringify(entry.bundle);
    return entry.url;
  } catch (err) {
    throw asObserverError(err, {
      code: 'tlog',
      retryable: true,
      context: `uploading the provenance of ${describeRun(run)} to the transparency log`,
    });
  }
}
