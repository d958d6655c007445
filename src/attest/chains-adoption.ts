import { createPublicKey, type KeyObject } from 'node:crypto';
import { INTOTO_PAYLOAD_TYPE } from '../intoto/index.ts';
import { type DsseEnvelope, keyIdOf, pae } from '../signing/index.ts';
import { payloadAnnotation, signatureAnnotation } from '../storage/index.ts';
import { type RunRef, runShortKey } from '../tekton/index.ts';
import { verifySignature } from '../verify/index.ts';

/** Tekton Chains' public key(s) to adopt signatures of, and the optional cut-over time. */
export interface ChainsTrust {
  /** PEM public keys (cosign.pub of Chains' `signing-secrets`); unparsable ones are skipped */
  publicKeysPem: readonly string[];
  /** runs that completed after it are not adopted (we attest them); default none */
  cutOver?: Date;
}

/** Chains' envelope on a run, verified: what the index records as adopted. */
export interface ChainsAdopted {
  adopted: true;
  /** the key (SSH SHA-256 fingerprint, Chains' keyid) whose signature verified */
  keyId: string;
  /** that key, PEM */
  keyPem: string;
  envelope: DsseEnvelope;
  envelopeBytes: Uint8Array;
  payload: Uint8Array;
  predicateType: string;
  subjects: { name: string; digest: Record<string, string> }[];
}

export type ChainsAdoption = ChainsAdopted | { adopted: false; reason: ChainsRefusal };

/**
 * Why a run's Chains annotations are not adopted. `after_cut_over`: Chains' signature verifies but
 * the run completed after the cut-over (ours to attest, not a tamper case); `no_chains_key`: none
 * configured; the others mean the annotations are not what Chains' key signed (tamper).
 */
export type ChainsRefusal =
  | 'no_chains_key'
  | 'after_cut_over'
  | 'no_envelope'
  | 'envelope_malformed'
  | 'payload_mismatch'
  | 'signature_invalid'
  | 'run_mismatch';

/**
 * Verifies the provenance Tekton Chains left on a run (its `tekton` storage: annotations
 * `chains.tekton.dev/payload-<key>` and `signature-<key>`, the signature being the whole DSSE
 * envelope JSON, tektoncd/chains pkg/chains/storage/tekton) against Chains' own public key(s).
 * Chains' payload is never byte-identical to ours (protojson layout, docs/compatibility.md
 * difference 1), so adoption trusts Chains' signature, not our rebuild: the envelope's payload
 * must equal the payload annotation and one signature must verify over DSSE's PAE with a
 * configured Chains key. Anything else (edited annotations, a foreign key, a garbled envelope) is
 * refused with the reason; the caller treats that run as today (signed afresh, mismatch reported).
 * A valid Chains envelope copied from another run (`run_mismatch`) is refused too: the statement
 * must describe this run (describesRun).
 */
export function verifyChainsAnnotations(
  run: Pick<RunRef, 'kind' | 'uid' | 'namespace'> & { completedAt?: number },
  annotations: Readonly<Record<string, string>>,
  trust: ChainsTrust,
): ChainsAdoption {
  const keys = parseKeys(trust.publicKeysPem);
  if (keys.length === 0) return refuse('no_chains_key');
  const key = runShortKey(run.kind, run.uid);
  const payload = decode(annotations[payloadAnnotation(key)]);
  const envelopeBytes = decode(annotations[signatureAnnotation(key)]);
  if (!payload || !envelopeBytes) return refuse('no_envelope');
  const envelope = parseEnvelope(envelopeBytes);
  if (!envelope) return refuse('envelope_malformed');
  if (!Buffer.from(envelope.payload, 'base64').equals(Buffer.from(payload)))
    return refuse('payload_mismatch');
  const statement = parseStatement(payload);
  if (!statement) return refuse('envelope_malformed');
  const message = pae(envelope.payloadType, payload);
  for (const s of envelope.signatures)
    for (const k of keys)
      if (typeof s.sig === 'string' && verifySignature(message, Buffer.from(s.sig, 'base64'), k.key))
        if (!describesRun(run, payload)) return refuse('run_mismatch');
        else if (lateForCutOver(run, trust)) return refuse('after_cut_over');
        else
          return {
            adopted: true,
            keyId: k.keyId,
            keyPem: k.pem,
            envelope,
            envelopeBytes,
            payload,
            ...statement,
          };
  return refuse('signature_invalid');
}

/**
 * Whether Chains' statement is about this run, by what Chains copies from it and a tenant cannot
 * write (the status is Tekton's): the completion time (v0.2 `metadata.buildFinishedOn`, v1.0
 * `runDetails.metadata.finishedOn`) equal to the run's to the second, and where the statement
 * names them, the namespace (v0.2 `invocation.environment.namespace`) and the run's uid (v1.0
 * `runDetails.metadata.invocationID`). A statement naming no completion time is not bound to the run.
 */
function describesRun(
  run: { uid: string; namespace: string; completedAt?: number },
  payload: Uint8Array,
): boolean {
  const p = (JSON.parse(Buffer.from(payload).toString('utf8')) as { predicate?: ChainsPredicate }).predicate;
  const finished = p?.metadata?.buildFinishedOn ?? p?.runDetails?.metadata?.finishedOn;
  if (typeof finished !== 'string' || run.completedAt === undefined) return false;
  if (Math.floor(Date.parse(finished) / 1000) !== Math.floor(run.completedAt / 1000)) return false;
  const namespace = p?.invocation?.environment?.namespace;
  if (namespace !== undefined && namespace !== run.namespace) return false;
  const invocation = p?.runDetails?.metadata?.invocationID;
  return invocation === undefined || invocation === run.uid;
}

/** The fields of Chains' SLSA v0.2 / v1.0 predicates that tie a statement to its run. */
interface ChainsPredicate {
  metadata?: { buildFinishedOn?: unknown };
  invocation?: { environment?: { namespace?: unknown } };
  runDetails?: { metadata?: { finishedOn?: unknown; invocationID?: unknown } };
}

/** Completed after the cut-over: ours to attest, though Chains' signature verifies. */
function lateForCutOver(run: { completedAt?: number }, trust: ChainsTrust): boolean {
  return !!trust.cutOver && run.completedAt !== undefined && run.completedAt > trust.cutOver.getTime();
}

function parseKeys(pems: readonly string[]): { key: KeyObject; keyId: string; pem: string }[] {
  return pems.flatMap((pem) => {
    try {
      const key = createPublicKey(pem);
      return [{ key, keyId: keyIdOf(key), pem }];
    } catch {
      return [];
    }
  });
}

function parseEnvelope(bytes: Uint8Array): (DsseEnvelope & { signatures: { sig?: unknown }[] }) | undefined {
  try {
    const e = JSON.parse(Buffer.from(bytes).toString('utf8')) as DsseEnvelope;
    if (
      e?.payloadType !== INTOTO_PAYLOAD_TYPE ||
      typeof e.payload !== 'string' ||
      !Array.isArray(e.signatures)
    )
      return undefined;
    return e;
  } catch {
    return undefined;
  }
}

function parseStatement(payload: Uint8Array): Pick<ChainsAdopted, 'predicateType' | 'subjects'> | undefined {
  try {
    const s = JSON.parse(Buffer.from(payload).toString('utf8')) as {
      predicateType?: unknown;
      subject?: unknown;
    };
    if (typeof s.predicateType !== 'string') return undefined;
    const subjects = Array.isArray(s.subject) ? (s.subject as ChainsAdopted['subjects']) : [];
    return { predicateType: s.predicateType, subjects };
  } catch {
    return undefined;
  }
}

function decode(value: string | undefined): Uint8Array | undefined {
  if (!value) return undefined;
  const bytes = Buffer.from(value, 'base64');
  return bytes.length ? new Uint8Array(bytes) : undefined;
}

const refuse = (reason: ChainsRefusal): ChainsAdoption => ({ adopted: false, reason });
