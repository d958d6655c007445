/**
 * The storage names a configuration may give an artifact type (Chains' `artifacts.*.storage`):
 * `oci` is the registry (cosign layout), `tekton` the run's own annotations. Shared by storage/
 * (which maps each to a destination) and index/ (which records where each one put an attestation).
 */
export type BackendName = 'tekton' | 'oci';

/**
 * Who signed an attestation the index records: `observer` (this service, the default) or `chains`
 * (Tekton Chains signed it before the switch-over and it was adopted, docs/migrating-from-chains.md).
 */
export type AttestationOrigin = 'observer' | 'chains';
