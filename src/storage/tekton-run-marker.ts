import {
  certAnnotation,
  chainAnnotation,
  payloadAnnotation,
  signatureAnnotation,
  storedElsewhereAnnotation,
} from '../model/index.ts';
import type { RunRef } from '../tekton/index.ts';
import type { SignedArtifact } from './backend.ts';
import type { RunMarker, RunMarks } from './run-marker.ts';

/**
 * Kubernetes limits all annotations of an object to 256 KiB together. Our share is capped below
 * that so the run's own annotations (and Tekton's) still fit; a payload that would not fit is
 * not written here, the run says where it is instead, and the attestation still succeeds (the
 * index and the registry hold it).
 */
export const ANNOTATION_BUDGET_BYTES = 128 * 1024;

/**
 * Chains' `tekton` storage as a RunMarker: Chains' annotations on the run itself, all standard
 * base64: payload-<key> (statement / simplesigning JSON), signature-<key> (DSSE envelope JSON for
 * provenance, raw signature for image signatures), cert-<key> and chain-<key> when the key is
 * certified (Chains always writes them, empty when not; we leave them out). They go into the mark
 * the reconciler writes with `chains.tekton.dev/signed` once every backend has stored: one write
 * per attestation instead of one per artifact plus the mark (a patch is an etcd write and a watch
 * event of the whole run for every watcher). A run gone from the cluster by then is not a failure
 * (the mark skips it; attested from its captured copy).
 */
export class TektonRunMarker implements RunMarker {
  readonly name = 'tekton' as const;
  readonly role = 'marker' as const;

  marksFor(run: RunRef, artifact: SignedArtifact): RunMarks {
    const b64 = (bytes: Uint8Array | string) => Buffer.from(bytes).toString('base64');
    const signature = artifact.type === 'provenance' ? artifact.envelopeBytes : artifact.signature;
    const annotations: Record<string, string> = {
      [payloadAnnotation(artifact.key)]: b64(artifact.payload),
      [signatureAnnotation(artifact.key)]: b64(signature),
    };
    if (artifact.certificatePem) annotations[certAnnotation(artifact.key)] = b64(artifact.certificatePem);
    if (artifact.chainPem) annotations[chainAnnotation(artifact.key)] = b64(artifact.chainPem);
    const size = Object.entries(annotations).reduce((n, [k, v]) => n + k.length + v.length, 0);
    const where = `${run.kind} ${run.namespace}/${run.name}`;
    if (size <= ANNOTATION_BUDGET_BYTES)
      return { annotations, location: `${where} annotations ${payloadAnnotation(artifact.key)}` };
    const note = `payload and signature of ${artifact.key} (${size} bytes) exceed the ${ANNOTATION_BUDGET_BYTES}-byte annotation budget; stored in the observer index and the other backends`;
    return {
      location: `${where} annotations ${storedElsewhereAnnotation(artifact.key)}`,
      note,
      annotations: {
        [storedElsewhereAnnotation(artifact.key)]: note,
        [payloadAnnotation(artifact.key)]: null,
        [signatureAnnotation(artifact.key)]: null,
      },
    };
  }
}
