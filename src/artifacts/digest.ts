/**
 * Digest parsing as Chains' `artifacts.ParseDigest`: exactly one `:`; algorithm trimmed and
 * lower-cased; hex trimmed; sha256/sha384/sha512 must have the exact length and lower-case hex
 * (go-digest), sha1 must match `^[a-f0-9]{40}$`; any other algorithm is unsupported.
 * Unlike Chains, the result is the normalised (alg, hex), which is also what we emit.
 */
import type { SkipCode } from './skipped.ts';

export type DigestParse =
  | { ok: true; alg: string; hex: string }
  | { ok: false; code: SkipCode; reason: string };

const HEX_LENGTH: Readonly<Record<string, number>> = { sha1: 40, sha256: 64, sha384: 96, sha512: 128 };

export function parseDigest(value: string): DigestParse {
  const parts = value.split(':');
  if (parts.length !== 2) {
    return {
      ok: false,
      code: 'digest_algorithm_unsupported',
      reason: `digest "${clip(value)}" is not <algorithm>:<hex>`,
    };
  }
  const alg = parts[0].trim().toLowerCase();
  const hex = parts[1].trim();
  const length = HEX_LENGTH[alg];
  if (length === undefined) {
    return {
      ok: false,
      code: 'digest_algorithm_unsupported',
      reason: `unsupported digest algorithm "${clip(alg)}"`,
    };
  }
  if (hex.length !== length || !/^[a-f0-9]+$/.test(hex)) {
    return {
      ok: false,
      code: 'digest_invalid',
      reason: `${alg} digest must be ${length} lower-case hex characters`,
    };
  }
  return { ok: true, alg, hex };
}

/** Shortens a value quoted in a reason so a 4 KiB junk result does not become a 4 KiB log line. */
export function clip(s: string, max = 80): string {
  return s.length <= max ? s : `${s.slice(0, max)}…`;
}
