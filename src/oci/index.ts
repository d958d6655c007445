export { type Challenge, parseChallenge, TokenCache, type TokenResponse } from './auth-challenge.ts';
export {
  attestationLayer,
  cosignConfigBlob,
  cosignLayers,
  cosignManifest,
  cosignTagDocument,
  type LayerAnnotations,
  type LayerBlob,
  signatureLayer,
} from './cosign-layout.ts';
export type { RegistryCredentials } from './credentials.ts';
export { digestTag, isSha256Digest, sha256Digest } from './digest.ts';
export { KeyedBatcher } from './keyed-batcher.ts';
export {
  type Descriptor,
  type ImageIndex,
  type ImageManifest,
  parseImageIndex,
  parseImageManifest,
  serializeIndex,
  serializeManifest,
} from './manifest.ts';
export * from './media-types.ts';
export { type ImageRef, type ImageReference, parseImageReference, splitRepository } from './reference.ts';
export {
  type AttachResult,
  attachReferrer,
  EMPTY_CONFIG,
  type ReferrerArtifact,
  referrerManifest,
  referrersIndexDocument,
} from './referrers.ts';
export { type ManifestResponse, RegistryClient, type RegistryClientOptions } from './registry-client.ts';
export { networkError, retryableStatus, statusError } from './registry-error.ts';
export {
  type Addition,
  type AppendOptions,
  type AppendResult,
  appendToTag,
  dedupeEntries,
  entryKey,
  SETTLE_CAP_MS,
  sameEntry,
  type TagDocument,
} from './tag-appender.ts';
