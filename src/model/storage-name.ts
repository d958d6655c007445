/**
 * The storage names a configuration may give an artifact type (Chains' `artifacts.*.storage`):
 * `oci` is the registry (cosign layout), `tekton` the run's own annotations. Shared by storage/
 * (which maps each to a destination) and index/ (which records where each one put an attestation).
 */
export type BackendName = 'tekton' | 'oci';
