export * from '../model/index.ts';
export type {
  BackendName,
  Destination,
  ImageRef,
  SignedArtifact,
  StorageBackend,
  StoreRequest,
  StoreResult,
} from './backend.ts';
export {
  type BackendDeps,
  backendsFromConfig,
  insecureRegistries,
  ociClients,
  registryCredentials,
  registryNetwork,
} from './backends-from-config.ts';
export type { CredentialSource, RegistryCredentials } from './credentials.ts';
export { ChainedCredentials } from './credentials-chained.ts';
export {
  DockerConfigCredentials,
  dockerConfigCredentials,
  normaliseRegistryKey,
} from './credentials-docker-config.ts';
export { PolicyGatedCredentials, type PolicyGatedCredentialsOptions } from './credentials-policy-gated.ts';
export {
  ServiceAccountCredentials,
  type ServiceAccountCredentialsOptions,
} from './credentials-service-account.ts';
export { type AttestationFound, findAttestation } from './oci-attestation-lookup.ts';
export { OciBackend, type OciBackendOptions } from './oci-backend.ts';
export { OciClients } from './oci-clients.ts';
export type { PayloadIdentity, SignatureVerifier } from './oci-stored-payload.ts';
export type { RunMarker, RunMarks } from './run-marker.ts';
export { ANNOTATION_BUDGET_BYTES, TektonRunMarker } from './tekton-run-marker.ts';
