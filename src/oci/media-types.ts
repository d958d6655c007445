/** Media types and annotation keys of the OCI image spec and of cosign's registry layout. */

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';

/**
 * What GET manifest asks for. distribution 2.8 answers 404 for an OCI manifest when the Accept
 * header lacks the OCI types, so all four are always sent.
 */
export const MANIFEST_ACCEPT = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST].join(', ');

/** cosign attestation layer: the DSSE envelope JSON. */
export const DSSE_LAYER = 'application/vnd.dsse.envelope.v1+json';
/** cosign signature layer: the simplesigning payload JSON. */
export const SIMPLESIGNING_LAYER = 'application/vnd.dev.cosign.simplesigning.v1+json';
/** Sigstore bundle v0.3 (protobuf JSON), cosign v3's default attachment. */
export const SIGSTORE_BUNDLE_V03 = 'application/vnd.dev.sigstore.bundle.v0.3+json';

export const ANNOTATION_SIGNATURE = 'dev.cosignproject.cosign/signature';
export const ANNOTATION_CERTIFICATE = 'dev.sigstore.cosign/certificate';
export const ANNOTATION_CHAIN = 'dev.sigstore.cosign/chain';
/** cosign RekorBundle JSON (SignedEntryTimestamp + Payload), when the signature was logged */
export const ANNOTATION_REKOR_BUNDLE = 'dev.sigstore.cosign/bundle';
export const ANNOTATION_PREDICATE_TYPE = 'predicateType';
export const ANNOTATION_BUNDLE_CONTENT = 'dev.sigstore.bundle.content';
export const ANNOTATION_BUNDLE_PREDICATE_TYPE = 'dev.sigstore.bundle.predicateType';
/**
 * Ours: `sha256:<hex>` of the payload an entry holds (the DSSE payload of a `.att` layer or of a
 * sigstore-bundle referrer, the simplesigning payload of a `.sig` layer). A hint for finding what
 * is already stored, never trusted alone: the entry's signature is verified before it counts.
 * cosign reads layer annotations by key and ignores others (pkg/oci/internal/signature/layer.go).
 */
export const ANNOTATION_PAYLOAD_DIGEST = 'dev.provenance-observer/payload-digest';
