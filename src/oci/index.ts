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
export { type Challenge, parseChallenge, TokenCache, type TokenResponse } from './http/auth-challenge.ts';
export {
  BLOB_LIMIT,
  BodyTooLarge,
  EncodedBody,
  MANIFEST_LIMIT,
  readCapped,
  SMALL_BODY_LIMIT,
} from './http/bounded-body.ts';
export {
  type AddressResolver,
  BoundedResolver,
  type BoundedResolverOptions,
  DnsTimeout,
} from './http/bounded-resolver.ts';
export {
  CircuitBreakers,
  type CircuitBreakersOptions,
  type CircuitState,
  type CircuitTicket,
} from './http/circuit-breaker.ts';
export { embeddedV4, HostPolicy, type HostPolicyOptions, HostRefused } from './http/host-policy.ts';
export { HostSlots } from './http/host-slots.ts';
export {
  networkError,
  publicRegistryMessage,
  REGISTRY_REASONS,
  type RegistryReason,
  registryError,
  retryableStatus,
  statusError,
} from './http/registry-error.ts';
export {
  type RegistryFetch,
  type RegistryTransportOptions,
  registryTransport,
} from './http/registry-transport.ts';
export { KeyedBatcher, type SubmitOptions } from './keyed-batcher.ts';
export {
  type Descriptor,
  type ImageIndex,
  type ImageManifest,
  MAX_LAYERS,
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
