import type { AttemptContext } from '../model/index.ts';
import { digestTag, sha256Digest } from './digest.ts';
import {
  type Descriptor,
  type ImageManifest,
  parseImageIndex,
  serializeIndex,
  serializeManifest,
} from './manifest.ts';
import { OCI_EMPTY, OCI_INDEX, OCI_MANIFEST } from './media-types.ts';
import type { RegistryClient } from './registry-client.ts';
import { type AppendResult, appendToTag, type TagDocument } from './tag-appender.ts';

/**
 * OCI 1.1 artifacts attached to an image by `subject`, as cosign v3 writes Sigstore bundles, with
 * the referrers-tag fallback (`sha256-<hex>` holding an image index) for registries without the
 * referrers API. https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md#referrers-tag-schema
 */

/** The OCI empty config `{}`. */
export const EMPTY_CONFIG = new TextEncoder().encode('{}');

export interface ReferrerArtifact {
  artifactType: string;
  /** the single layer (e.g. the bundle JSON), media type = artifactType */
  layer: Uint8Array;
  /** manifest annotations, copied into the referrers index entry */
  annotations: Record<string, string>;
}

/**
 * The artifact manifest for a subject. Deterministic (no creation time): the same artifact for the
 * same subject is the same manifest digest, which is how re-storing stays a no-op.
 */
export function referrerManifest(subject: Descriptor, artifact: ReferrerArtifact): ImageManifest {
  return {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: artifact.artifactType,
    config: { mediaType: OCI_EMPTY, size: EMPTY_CONFIG.length, digest: sha256Digest(EMPTY_CONFIG) },
    layers: [
      { mediaType: artifact.artifactType, size: artifact.layer.length, digest: sha256Digest(artifact.layer) },
    ],
    subject: { mediaType: subject.mediaType, size: subject.size, digest: subject.digest },
    annotations: artifact.annotations,
  };
}

/** The referrers-tag index: entries are the referring manifests. */
export const referrersIndexDocument: TagDocument = {
  entries: (existing) => (existing ? parseImageIndex(existing.bytes, 'referrers tag').manifests : []),
  render: (entries) => ({
    bytes: serializeIndex({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: entries }),
    mediaType: OCI_INDEX,
    blobs: [],
  }),
};

export interface AttachResult {
  /** digest of the artifact manifest */
  digest: string;
  /** the referrers-tag update, when the registry has no referrers API */
  fallback?: AppendResult;
}

/**
 * Pushes the artifact manifest (by digest) and, unless the registry acknowledged the subject with
 * `OCI-Subject`, adds it to the `sha256-<hex>` referrers tag with `appendIndex` (which must
 * serialise per tag, like appendToTag through a KeyedBatcher).
 */
export async function attachReferrer(o: {
  client: RegistryClient;
  repository: string;
  subject: Descriptor;
  artifact: ReferrerArtifact;
  appendIndex?: (entry: Descriptor) => Promise<AppendResult>;
  /** the attempt the store is part of; default none */
  context?: AttemptContext;
}): Promise<AttachResult> {
  const { context } = o;
  const manifest = referrerManifest(o.subject, o.artifact);
  await o.client.uploadBlob(o.repository, EMPTY_CONFIG, { context });
  await o.client.uploadBlob(o.repository, o.artifact.layer, { context });
  const bytes = serializeManifest(manifest);
  const digest = sha256Digest(bytes);
  const put = await o.client.putManifest(o.repository, digest, bytes, OCI_MANIFEST, { context });
  if (put.ociSubject) return { digest };
  const entry: Descriptor = {
    mediaType: OCI_MANIFEST,
    size: bytes.length,
    digest,
    annotations: o.artifact.annotations,
    artifactType: o.artifact.artifactType,
  };
  const tag = digestTag(o.subject.digest);
  const append =
    o.appendIndex ??
    ((e: Descriptor) =>
      appendToTag({
        client: o.client,
        repository: o.repository,
        tag,
        document: referrersIndexDocument,
        additions: [{ descriptor: e }],
        ...(context ? { context } : {}),
      }));
  return { digest, fallback: await append(entry) };
}
