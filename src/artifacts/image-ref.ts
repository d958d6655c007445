/**
 * Image references parsed as go-containerregistry's `name.NewDigest` (default, non-strict options)
 * parses them, because Chains names subjects and signs images with it:
 * - exactly one `@`; the digest must be `sha256:` + 64 lower-case hex;
 * - a tag (after the last `:` when no `/` follows it) is checked and dropped;
 * - the first path component is the registry only if it contains `.` or `:`; otherwise the
 *   registry is Docker Hub, `docker.io` is rewritten to `index.docker.io`, and a single-component
 *   Docker Hub repository gets `library/`;
 * - repository: 2–255 chars of `[a-z0-9_./-]`.
 * https://github.com/google/go-containerregistry/tree/main/pkg/name
 */
import type { SkipCode } from './skipped.ts';

export interface ImageDigestRef {
  /** `registry/repository`, e.g. `index.docker.io/library/busybox` */
  repository: string;
  /** `sha256:<64 hex>` */
  digest: string;
}

export type ImageParse = ({ ok: true } & ImageDigestRef) | { ok: false; code: SkipCode; reason: string };

const DEFAULT_REGISTRY = 'index.docker.io';
const REPOSITORY_CHARS = /^[a-z0-9_./-]{2,255}$/;
const TAG_CHARS = /^[A-Za-z0-9_.-]{1,128}$/;
const REGISTRY = /^[A-Za-z0-9.-]+(:[0-9]*)?$|^\[[0-9A-Fa-f:.]+\](:[0-9]*)?$/;

export function parseImageDigestRef(ref: string): ImageParse {
  const parts = ref.split('@');
  if (parts.length !== 2) return fail(`image reference must contain exactly one "@"`);
  const digest = parts[1];
  if (!digest.startsWith('sha256:')) {
    return { ok: false, code: 'digest_algorithm_unsupported', reason: 'image digest must be sha256:<hex>' };
  }
  if (!/^sha256:[a-f0-9]{64}$/.test(digest)) {
    return {
      ok: false,
      code: 'digest_invalid',
      reason: 'image digest must be sha256: and 64 lower-case hex characters',
    };
  }
  const repository = parseRepository(stripTag(parts[0]));
  if (repository === undefined) return fail('image repository name is not valid');
  return { ok: true, repository, digest };
}

function stripTag(base: string): string | undefined {
  const colon = base.lastIndexOf(':');
  if (colon < 0 || base.slice(colon + 1).includes('/')) return base;
  return TAG_CHARS.test(base.slice(colon + 1)) ? base.slice(0, colon) : undefined;
}

function parseRepository(name: string | undefined): string | undefined {
  if (!name) return undefined;
  let registry = '';
  let repo = name;
  const slash = name.indexOf('/');
  if (slash > 0 && /[.:]/.test(name.slice(0, slash))) {
    registry = name.slice(0, slash);
    repo = name.slice(slash + 1);
  }
  if (!REPOSITORY_CHARS.test(repo)) return undefined;
  if (registry !== '' && !REGISTRY.test(registry)) return undefined;
  if (registry === '' || registry === 'docker.io') registry = DEFAULT_REGISTRY;
  if (registry === DEFAULT_REGISTRY && !repo.includes('/')) repo = `library/${repo}`;
  return `${registry}/${repo}`;
}

function fail(reason: string): ImageParse {
  return { ok: false, code: 'image_ref_invalid', reason };
}
