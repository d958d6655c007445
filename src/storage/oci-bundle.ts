import { ObserverError } from '../errors.ts';
import type { AttemptContext } from '../model/index.ts';
import {
  type Addition,
  ANNOTATION_BUNDLE_CONTENT,
  ANNOTATION_BUNDLE_PREDICATE_TYPE,
  ANNOTATION_PAYLOAD_DIGEST,
  type AppendResult,
  attachReferrer,
  digestTag,
  type RegistryClient,
  referrersIndexDocument,
  SIGSTORE_BUNDLE_V03,
  sha256Digest,
} from '../oci/index.ts';
import { toSigstoreBundle } from '../signing/index.ts';
import type { ImageRef, SignedArtifact } from './backend.ts';
import {
  bundleStoredAs,
  type SignatureVerifier,
  type StoredAs,
  type StoredPayloadDeps,
} from './oci-stored-payload.ts';

type Provenance = Extract<SignedArtifact, { type: 'provenance' }>;

export interface StoreBundleOptions {
  client: RegistryClient;
  repository: string;
  image: ImageRef;
  artifact: Provenance;
  /** the bundle JSON bytes; default: defaultBundle */
  toBundle?: (artifact: Provenance) => Uint8Array;
  /** with it, a referrer holding the same payload with a verifying signature counts as stored */
  verifies?: SignatureVerifier;
  /** told about a referrer or bundle of ours that is not ours to read (StoredPayloadDeps.report) */
  report?: StoredPayloadDeps['report'];
  /** adds an entry to the referrers tag, serialised per tag by the caller */
  appendIndex: (addition: Addition) => Promise<AppendResult>;
  /** the attempt the store is part of; default none */
  context?: AttemptContext;
}

/**
 * Attaches the attestation as a Sigstore bundle referrer of the image (OCI 1.1 `subject`, with the
 * referrers-tag fallback) unless one holding the same payload, validly signed, is already there.
 * Returns the referrer's manifest digest. On a registry with the referrers API two replicas racing
 * can still both push (there is no tag to compare against); on the referrers-tag fallback the
 * index append settles the race (appendToTag with `storedAs`).
 */
export async function storeBundle(o: StoreBundleOptions): Promise<string> {
  const { client, repository, image, artifact, context } = o;
  const subject = await client.getManifest(repository, image.digest, context);
  if (!subject) {
    throw new ObserverError(`attaching bundle to ${image.repository}@${image.digest}: image not found`, {
      code: 'registry',
      retryable: true,
    });
  }
  const payloadDigest = sha256Digest(artifact.payload);
  const storedAs =
    o.verifies &&
    bundleStoredAs(
      { client, repository, verifies: o.verifies, ...(o.report ? { report: o.report } : {}) },
      {
        payloadDigest,
        payloadBytes: artifact.payload.length,
        payloadType: artifact.envelope.payloadType,
        ...(artifact.tenant ? { tenant: artifact.tenant } : {}),
      },
    );
  const found = storedAs && (await findReferrer({ client, repository, context }, subject.digest, storedAs));
  if (found) return found;
  const { digest } = await attachReferrer({
    client,
    repository,
    subject: { mediaType: subject.mediaType, size: subject.bytes.length, digest: subject.digest },
    artifact: {
      artifactType: SIGSTORE_BUNDLE_V03,
      layer: o.toBundle?.(artifact) ?? defaultBundle(artifact),
      annotations: {
        [ANNOTATION_BUNDLE_CONTENT]: 'dsse-envelope',
        [ANNOTATION_BUNDLE_PREDICATE_TYPE]: artifact.predicateType,
        [ANNOTATION_PAYLOAD_DIGEST]: payloadDigest,
      },
    },
    appendIndex: (entry) => o.appendIndex({ descriptor: entry, ...(storedAs ? { storedAs } : {}) }),
    ...(context ? { context } : {}),
  });
  return digest;
}

/**
 * The digest of a sigstore-bundle referrer of `subject` that `storedAs` accepts: from the
 * referrers API, or the `sha256-<hex>` referrers tag where there is none.
 */
async function findReferrer(
  { client, repository, context }: Pick<StoreBundleOptions, 'client' | 'repository' | 'context'>,
  subject: string,
  storedAs: StoredAs,
): Promise<string | undefined> {
  const index =
    (await client.getReferrers(repository, subject, SIGSTORE_BUNDLE_V03, context))?.manifests ??
    referrersIndexDocument.entries(await client.getManifest(repository, digestTag(subject), context));
  for (const entry of index) if (await storedAs(entry, context)) return entry.digest;
  return undefined;
}

/** The certificate, else the envelope's keyid as public-key hint, and no tlog entry. */
function defaultBundle(artifact: Provenance): Uint8Array {
  const first = artifact.envelope.signatures[0];
  const signature = {
    signature: Buffer.from(first?.sig ?? '', 'base64'),
    certificatePem: artifact.certificatePem,
    chainPem: artifact.chainPem,
  };
  const bundle = toSigstoreBundle(artifact.envelope, { signature, keyId: first?.keyid ?? '' });
  return new TextEncoder().encode(JSON.stringify(bundle));
}
