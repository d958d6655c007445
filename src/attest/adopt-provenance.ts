import { EXECUTION_CHECK_FIELD, type SealedProvenance } from '../formats/index.ts';
import { INTOTO_PAYLOAD_TYPE } from '../intoto/index.ts';
import type { ExecutionCheckOutcome } from '../policy/index.ts';
import { type DsseEnvelope, pae } from '../signing/index.ts';
import { payloadAnnotation, type SignatureVerifier, signatureAnnotation } from '../storage/index.ts';
import { type RunRef, runShortKey } from '../tekton/index.ts';
import type { ProvenanceArtifact } from './sign-artifacts.ts';

/**
 * Adopt, don't re-sign: the provenance envelope a run already carries in Chains' annotations
 * (`payload-<key>`, `signature-<key>`) when its payload is byte for byte the statement we build
 * now and one of its signatures verifies with a published key. That is what an observer that lost
 * its index (emptyDir, new PVC, restore) finds on every run it had attested: storing the same
 * envelope again adds no layer and raises no tamper alarm. Anything else (a tenant's envelope, a
 * changed run, an unknown key) is not adopted: the run is signed afresh and the mismatch reported.
 */
export async function adoptProvenance(
  run: RunRef,
  annotations: Readonly<Record<string, string>>,
  provenance: SealedProvenance,
  verifies: AdoptionVerifier,
): Promise<ProvenanceArtifact | undefined> {
  const key = runShortKey(run.kind, run.uid);
  const payload = decode(annotations[payloadAnnotation(key)]);
  const envelopeBytes = decode(annotations[signatureAnnotation(key)]);
  if (!payload || !envelopeBytes || !Buffer.from(payload).equals(Buffer.from(provenance.payload)))
    return undefined;
  let envelope: DsseEnvelope;
  try {
    envelope = JSON.parse(Buffer.from(envelopeBytes).toString('utf8')) as DsseEnvelope;
  } catch {
    return undefined;
  }
  if (envelope.payloadType !== INTOTO_PAYLOAD_TYPE || typeof envelope.payload !== 'string') return undefined;
  if (!Buffer.from(envelope.payload, 'base64').equals(Buffer.from(provenance.payload))) return undefined;
  const message = pae(envelope.payloadType, provenance.payload);
  const keyId = verifiedBy(verifies, message, envelope);
  if (!keyId) return undefined;
  return {
    type: 'provenance',
    key,
    predicateType: provenance.statement.predicateType,
    payload: provenance.payload,
    envelope,
    envelopeBytes,
    images: provenance.images,
    keyId,
  };
}

/**
 * What adoption needs to verify with: our published keys, able to say which one verified
 * (verify/published-keys.ts). A verifier that cannot say adopts nothing.
 */
export type AdoptionVerifier = SignatureVerifier & {
  keyIdOf?: (message: Uint8Array, signature: Uint8Array) => string | undefined;
};

/** The keyId of the first published key that verifies one of the envelope's signatures. */
function verifiedBy(
  verifies: AdoptionVerifier,
  message: Uint8Array,
  envelope: DsseEnvelope,
): string | undefined {
  if (!verifies.keyIdOf) return undefined;
  for (const s of envelope.signatures ?? []) {
    if (typeof s.sig !== 'string') continue;
    const keyId = verifies.keyIdOf(message, Buffer.from(s.sig, 'base64'));
    if (keyId) return keyId;
  }
  return undefined;
}

/**
 * The execution-check outcome recorded in the provenance payload a run carries (v1.0: the
 * `executionCheck` byproduct; v0.2: `predicate.buildConfig.executionCheck`); undefined when there is
 * none or the payload does not parse. Never trusted by itself: a caller rebuilds the statement with
 * it and adopts only when that equals the payload a published key signed — the check ran when the
 * run was attested, and its Pod has since been pruned (a check now can only say `pod_not_found`).
 */
export function recordedExecutionCheck(
  run: RunRef,
  annotations: Readonly<Record<string, string>>,
): ExecutionCheckOutcome | undefined {
  const payload = decode(annotations[payloadAnnotation(runShortKey(run.kind, run.uid))]);
  if (!payload) return undefined;
  try {
    const predicate = JSON.parse(Buffer.from(payload).toString('utf8'))?.predicate;
    const byproducts: { name?: string; content?: string }[] = predicate?.runDetails?.byproducts ?? [];
    const content = byproducts.find((b) => b?.name === EXECUTION_CHECK_FIELD)?.content;
    const outcome = content
      ? JSON.parse(Buffer.from(content, 'base64').toString('utf8'))
      : predicate?.buildConfig?.[EXECUTION_CHECK_FIELD];
    return typeof outcome?.result === 'string' ? (outcome as ExecutionCheckOutcome) : undefined;
  } catch {
    return undefined;
  }
}

function decode(value: string | undefined): Uint8Array | undefined {
  if (!value) return undefined;
  const bytes = Buffer.from(value, 'base64');
  return bytes.length ? new Uint8Array(bytes) : undefined;
}
