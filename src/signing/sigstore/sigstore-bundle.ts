import {
  bundleToJSON,
  type SerializedBundle,
  type TransparencyLogEntry,
  toDSSEBundle,
} from '@sigstore/bundle';
import type { DsseEnvelope, SignatureResult } from '../signer.ts';

export interface SigstoreBundleOptions {
  /** the signature's result: a certificate makes an x509 bundle, otherwise a public-key hint */
  signature: Pick<SignatureResult, 'certificatePem'>;
  /** key id for `verificationMaterial.publicKey.hint` when there is no certificate */
  keyId: string;
  /** transparency log entry from TransparencyLog, if uploaded */
  tlogEntry?: TransparencyLogEntry;
}

/**
 * A Sigstore bundle v0.3 (`application/vnd.dev.sigstore.bundle.v0.3+json`) around one signed DSSE
 * envelope, as `cosign attest --new-bundle-format` and @sigstore/verify read it. Pure.
 */
export function toSigstoreBundle(envelope: DsseEnvelope, options: SigstoreBundleOptions): SerializedBundle {
  const first = envelope.signatures[0];
  if (!first) throw new Error('envelope has no signature');
  const cert = options.signature.certificatePem;
  const bundle = toDSSEBundle({
    artifact: Buffer.from(envelope.payload, 'base64'),
    artifactType: envelope.payloadType,
    signature: Buffer.from(first.sig, 'base64'),
    // keyid in the bundled envelope stays the one we signed with; the hint is ignored with a cert
    keyHint: first.keyid || options.keyId,
    ...(cert ? { certificate: pemToDer(cert) } : {}),
  });
  if (options.tlogEntry) bundle.verificationMaterial.tlogEntries = [options.tlogEntry];
  return bundleToJSON(bundle);
}

function pemToDer(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64');
}
