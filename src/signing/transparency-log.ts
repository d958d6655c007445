import type { TransparencyLogEntry } from '@sigstore/bundle';
import type { DsseEnvelope, SignatureResult } from './signer.ts';

/**
 * The transparency-log role: record a signature publicly and return the proof.
 * The controller uploads the provenance envelope after signing and before storage, as Chains
 * does (tektoncd/chains pkg/chains/signing.go); unlike Chains, which stores without the bundle
 * when the upload fails, a failed upload fails the attempt ('tlog', retryable) before anything is
 * stored. Only envelopes are uploaded: the controller does not call `uploadSignature`, so `.sig`
 * signatures have no Rekor entry (Chains uploads them too).
 */
export interface TransparencyLog {
  /** Rekor `dsse` v0.0.1 entry for an in-toto envelope. */
  uploadEnvelope(
    envelope: DsseEnvelope,
    signature: Pick<SignatureResult, 'signature' | 'certificatePem'>,
    publicKeyPem: string,
  ): Promise<TransparencyEntry>;
  /** Rekor `hashedrekord` v0.0.1 entry (sha256 of the payload) for a simplesigning signature. */
  uploadSignature(
    payload: Uint8Array,
    signature: Pick<SignatureResult, 'signature' | 'certificatePem'>,
    publicKeyPem: string,
  ): Promise<TransparencyEntry>;
}

export interface TransparencyEntry {
  /** value for the `chains.tekton.dev/transparency` annotation: `<url>/api/v1/log/entries?logIndex=<n>` */
  url: string;
  logIndex: number;
  /** cosign's RekorBundle, for the `dev.sigstore.cosign/bundle` OCI annotation */
  bundle: CosignRekorBundle;
  /** the same entry in Sigstore bundle form, for toSigstoreBundle */
  tlogEntry: TransparencyLogEntry;
}

/** cosign `pkg/cosign/bundle.RekorBundle` JSON. */
export interface CosignRekorBundle {
  SignedEntryTimestamp: string;
  Payload: { body: string; integratedTime: number; logIndex: number; logID: string };
}

/** Chains' `transparency.enabled`: "true" → always, "manual" → only annotated runs, else never. */
export type TransparencyMode = 'off' | 'on' | 'manual';

/**
 * Whether to upload for a run (Chains `pkg/chains/rekor.go` shouldUploadTlog): always when on;
 * when manual, only if the run is annotated `chains.tekton.dev/transparency-upload: "true"` and
 * has no `chains.tekton.dev/transparency` yet.
 */
export function shouldUpload(
  mode: TransparencyMode,
  annotations: Record<string, string> | undefined,
): boolean {
  switch (mode) {
    case 'on':
      return true;
    case 'off':
      return false;
    case 'manual':
      return (
        annotations?.['chains.tekton.dev/transparency-upload'] === 'true' &&
        annotations['chains.tekton.dev/transparency'] === undefined
      );
  }
}
