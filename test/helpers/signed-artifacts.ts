import { type KeyObject, randomUUID, sign } from 'node:crypto';
import { INTOTO_PAYLOAD_TYPE, SLSA_PROVENANCE_V1, STATEMENT_V1 } from '../../src/intoto/index.ts';
import type { CheckedImage } from '../../src/policy/index.ts';
import { pae } from '../../src/signing/index.ts';
import type { ImageRef, SignedArtifact } from '../../src/storage/index.ts';

type Provenance = Extract<SignedArtifact, { type: 'provenance' }>;
type ImageSignature = Extract<SignedArtifact, { type: 'image-signature' }>;
const enc = (s: string) => new TextEncoder().encode(s);

/** An in-toto statement naming these images, unique per call (a nonce in the predicate). */
export function provenanceStatement(images: readonly ImageRef[]): Uint8Array {
  return enc(
    JSON.stringify({
      _type: STATEMENT_V1,
      subject: images.map((i) => ({ name: i.repository, digest: { sha256: i.digest.slice(7) } })),
      predicateType: SLSA_PROVENANCE_V1,
      predicate: { buildDefinition: { nonce: randomUUID() } },
    }),
  );
}

/** `payload` signed now over the DSSE PAE with `key` (ECDSA: another envelope every call). */
export function signedProvenance(
  images: readonly CheckedImage[],
  payload: Uint8Array,
  key: KeyObject,
): Provenance {
  const sig = sign('sha256', pae(INTOTO_PAYLOAD_TYPE, payload), key).toString('base64');
  const envelope = {
    payloadType: INTOTO_PAYLOAD_TYPE,
    payload: Buffer.from(payload).toString('base64'),
    signatures: [{ keyid: '', sig }],
  };
  return {
    type: 'provenance',
    key: 'taskrun-uid-1',
    predicateType: SLSA_PROVENANCE_V1,
    payload,
    envelope,
    envelopeBytes: enc(JSON.stringify(envelope)),
    images,
  };
}

/** cosign's simplesigning payload for the image, signed with `key`. */
export function signedImageSignature(image: CheckedImage, key: KeyObject): ImageSignature {
  const payload = enc(
    JSON.stringify({
      critical: {
        identity: { 'docker-reference': image.repository },
        image: { 'docker-manifest-digest': image.digest },
        type: 'cosign container image signature',
      },
      optional: null,
    }),
  );
  return {
    type: 'image-signature',
    key: image.digest.slice(7, 19),
    image,
    payload,
    signature: sign('sha256', payload, key),
  };
}
