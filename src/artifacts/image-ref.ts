/**
 * Image references of image hints (IMAGE_URL/IMAGE_DIGEST, IMAGES, `*_IMAGE_URL`), parsed by the one
 * subject grammar (model/subject-ref.ts: the distribution reference rules with go-containerregistry's
 * Docker Hub normalisation, as Chains names subjects). Image hints carry sha256 digests only, as
 * Chains' `name.NewDigest`; the tag is checked and dropped.
 */
import { parseImageSubject } from '../model/index.ts';
import type { SkipCode } from './skipped.ts';

export interface ImageDigestRef {
  /** `registry/repository`, e.g. `index.docker.io/library/busybox` */
  repository: string;
  /** `sha256:<64 hex>` */
  digest: string;
}

export type ImageParse = ({ ok: true } & ImageDigestRef) | { ok: false; code: SkipCode; reason: string };

export function parseImageDigestRef(ref: string): ImageParse {
  const at = ref.split('@');
  if (at.length === 2 && !(at[1] as string).startsWith('sha256:'))
    return { ok: false, code: 'digest_algorithm_unsupported', reason: 'image digest must be sha256:<hex>' };
  const parsed = parseImageSubject(ref);
  if (!parsed.ok) return parsed;
  if (parsed.kind !== 'oci')
    return { ok: false, code: 'image_ref_invalid', reason: 'not an image reference' };
  return { ok: true, repository: parsed.repository, digest: parsed.digest };
}
