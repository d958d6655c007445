import { sha256Digest } from './digest.ts';
import { type Descriptor, type ImageManifest, parseImageManifest, serializeManifest } from './manifest.ts';
import {
  ANNOTATION_CERTIFICATE,
  ANNOTATION_CHAIN,
  ANNOTATION_PAYLOAD_DIGEST,
  ANNOTATION_PREDICATE_TYPE,
  ANNOTATION_REKOR_BUNDLE,
  ANNOTATION_SIGNATURE,
  DSSE_LAYER,
  OCI_CONFIG,
  OCI_MANIFEST,
  SIMPLESIGNING_LAYER,
} from './media-types.ts';
import type { TagDocument } from './tag-appender.ts';

/**
 * cosign's tag layout (`sha256-<hex>.att` / `.sig`), byte-compatible with what cosign and Tekton
 * Chains write through go-containerregistry (cosign pkg/oci/static, specs/ATTESTATION_SPEC.md).
 */

/** A layer to add: its descriptor and the blob bytes its digest is over. */
export interface LayerBlob {
  descriptor: Descriptor;
  bytes: Uint8Array;
}

export interface LayerAnnotations {
  /** PEM leaf certificate; the annotation is only written when set (keyless or x509 keys) */
  certificatePem?: string;
  chainPem?: string;
  /** cosign RekorBundle JSON; written as `dev.sigstore.cosign/bundle` when the entry was logged */
  rekorBundle?: string;
  /**
   * `sha256:<hex>` of the payload the layer holds, written as ANNOTATION_PAYLOAD_DIGEST when set.
   * cosign reads its own annotations by key and ignores the rest
   * (sigstore/cosign pkg/oci/internal/signature/layer.go, pkg/oci/static/signature.go).
   */
  payloadDigest?: string;
}

const ZERO_TIME = '0001-01-01T00:00:00Z';

/**
 * The config blob go-containerregistry writes for cosign's empty-base image: zero times, one
 * history entry per layer, diff_ids = layer digests (the layers are not compressed). With one layer
 * it is exactly 233 bytes, the size in cosign's ATTESTATION_SPEC example.
 */
export function cosignConfigBlob(layerDigests: string[]): Uint8Array {
  const config = {
    architecture: '',
    created: ZERO_TIME,
    history: layerDigests.map(() => ({ created: ZERO_TIME })),
    os: '',
    rootfs: { type: 'layers', diff_ids: layerDigests },
    config: {},
  };
  return new TextEncoder().encode(JSON.stringify(config));
}

function layerAnnotations(c: LayerAnnotations): Record<string, string> {
  return {
    ...(c.certificatePem ? { [ANNOTATION_CERTIFICATE]: c.certificatePem } : {}),
    ...(c.chainPem ? { [ANNOTATION_CHAIN]: c.chainPem } : {}),
    ...(c.rekorBundle ? { [ANNOTATION_REKOR_BUNDLE]: c.rekorBundle } : {}),
    ...(c.payloadDigest ? { [ANNOTATION_PAYLOAD_DIGEST]: c.payloadDigest } : {}),
  };
}

/**
 * An attestation layer: the DSSE envelope bytes, an empty signature annotation (the signature is
 * inside the envelope), certificate/chain when set, and `predicateType` as the cosign CLI writes it
 * (Chains omits it; verifiers ignore unknown annotations, and policy tools can filter on it
 * without fetching the blob).
 */
export function attestationLayer(
  envelopeBytes: Uint8Array,
  options: LayerAnnotations & { predicateType?: string },
): LayerBlob {
  const annotations: Record<string, string> = {
    [ANNOTATION_SIGNATURE]: '',
    ...layerAnnotations(options),
    ...(options.predicateType ? { [ANNOTATION_PREDICATE_TYPE]: options.predicateType } : {}),
  };
  const descriptor = {
    mediaType: DSSE_LAYER,
    size: envelopeBytes.length,
    digest: sha256Digest(envelopeBytes),
    annotations,
  };
  return { descriptor, bytes: envelopeBytes };
}

/** A signature layer: the simplesigning payload, its base64 signature in the signature annotation. */
export function signatureLayer(
  payload: Uint8Array,
  signature: Uint8Array,
  options: LayerAnnotations,
): LayerBlob {
  const annotations = {
    [ANNOTATION_SIGNATURE]: Buffer.from(signature).toString('base64'),
    ...layerAnnotations(options),
  };
  return {
    descriptor: {
      mediaType: SIMPLESIGNING_LAYER,
      size: payload.length,
      digest: sha256Digest(payload),
      annotations,
    },
    bytes: payload,
  };
}

/** The `.att`/`.sig` manifest over these layers, with its config blob (upload it first). */
export function cosignManifest(layers: Descriptor[]): {
  manifest: ImageManifest;
  bytes: Uint8Array;
  config: Uint8Array;
} {
  const config = cosignConfigBlob(layers.map((l) => l.digest));
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, size: config.length, digest: sha256Digest(config) },
    layers,
  };
  return { manifest, bytes: serializeManifest(manifest), config };
}

/** The layers of an existing `.att`/`.sig` manifest (none when the tag does not exist yet). */
export function cosignLayers(existing: Uint8Array | undefined, context: string): Descriptor[] {
  return existing ? parseImageManifest(existing, context).layers : [];
}

/** The `.att`/`.sig` tag as a TagDocument for appendToTag: entries are its layers. */
export const cosignTagDocument: TagDocument = {
  entries: (existing) => cosignLayers(existing?.bytes, 'cosign manifest'),
  render: (layers) => {
    const { bytes, config } = cosignManifest(layers);
    return { bytes, mediaType: OCI_MANIFEST, blobs: [config] };
  },
};
