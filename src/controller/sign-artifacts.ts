import { asObserverError } from '../errors.ts';
import { type Provenance, simpleSigningPayload } from '../formats/index.ts';
import { INTOTO_PAYLOAD_TYPE } from '../intoto/index.ts';
import { type Signer, signEnvelope, signRaw, type TransparencyLog } from '../signing/index.ts';
import type { ImageRef, SignedArtifact } from '../storage/index.ts';
import { describeRun, type RunRef, runShortKey } from '../tekton/index.ts';

export type ProvenanceArtifact = Extract<SignedArtifact, { type: 'provenance' }>;

/** Signs the statement bytes as a DSSE envelope; errors are `signing` (retryable) and name the run. */
export async function signProvenance(
  run: RunRef,
  provenance: Provenance,
  signer: Signer,
): Promise<ProvenanceArtifact> {
  try {
    const { envelope, envelopeBytes, signature } = await signEnvelope(
      provenance.payload,
      INTOTO_PAYLOAD_TYPE,
      signer,
    );
    return {
      type: 'provenance',
      key: runShortKey(run.kind, run.uid),
      predicateType: provenance.statement.predicateType,
      payload: provenance.payload,
      envelope,
      envelopeBytes,
      images: provenance.images,
      certificatePem: signature.certificatePem,
      chainPem: signature.chainPem,
    };
  } catch (err) {
    throw asObserverError(err, { code: 'signing', retryable: true, context: `signing ${describeRun(run)}` });
  }
}

/** Signs cosign's simplesigning payload for one image (Chains' OCI artifact); key = 12 hex of the digest. */
export async function signImage(run: RunRef, image: ImageRef, signer: Signer): Promise<SignedArtifact> {
  const payload = simpleSigningPayload(image);
  try {
    const signature = await signRaw(payload, signer);
    return {
      type: 'image-signature',
      key: image.digest.replace(/^sha256:/, '').slice(0, 12),
      image,
      payload,
      signature: signature.signature,
      certificatePem: signature.certificatePem,
      chainPem: signature.chainPem,
    };
  } catch (err) {
    throw asObserverError(err, {
      code: 'signing',
      retryable: true,
      context: `signing image ${image.repository}@${image.digest} of ${describeRun(run)}`,
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
