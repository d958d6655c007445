/**
 * cosign's simplesigning payload for an image signature (Chains `formats/simple`, cosign
 * `payload.SimpleContainerImage`), byte for byte as Go's json.Marshal writes it:
 * `{"critical":{"identity":{"docker-reference":"<repo>"},"image":{"docker-manifest-digest":"sha256:<hex>"},
 * "type":"cosign container image signature"},"optional":null}`.
 * https://github.com/sigstore/cosign/blob/main/specs/SIGNATURE_SPEC.md
 */
import type { ImageRef } from '../oci/index.ts';
import { goJson } from './canonical-json.ts';

export function simpleSigningPayload(image: ImageRef): Uint8Array {
  const critical = goJson({
    identity: { 'docker-reference': image.repository },
    image: { 'docker-manifest-digest': image.digest },
    type: 'cosign container image signature',
  });
  return new TextEncoder().encode(`{"critical":${critical},"optional":null}`);
}
