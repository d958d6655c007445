import type { TransparencyLogEntry } from '@sigstore/bundle';
import type { DsseEnvelope, SignatureResult, Signer } from '../signer.ts';

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
  /**
   * The entry already logged for `payload` and signed by `key`, looked up before signing so that a
   * run attested again (after a crash, on an emptied index, by another replica) reuses the logged
   * signature instead of making a second entry. Accepted only when the entry's body says so and the
   * signature verifies with `key` (rekor-entry.ts): the log is public, anyone can log our payload.
   * Undefined when there is none. Fails with ObserverError 'tlog' (retryable) as an upload does.
   */
  findEnvelope(
    payload: Uint8Array,
    payloadType: string,
    key: Pick<Signer, 'publicKeyPem' | 'algorithm'>,
  ): Promise<FoundEnvelope | undefined>;
}

/** A logged dsse entry of ours: the entry, and the signature it holds (DER/raw, as signed). */
export interface FoundEnvelope {
  entry: TransparencyEntry;
  signature: Uint8Array;
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
