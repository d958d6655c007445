import { createHash } from 'node:crypto';

/** `sha256:<hex>` of exactly these bytes. */
export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

const DIGEST = /^sha256:[a-f0-9]{64}$/;

export const isSha256Digest = (s: string): boolean => DIGEST.test(s);

/** cosign's tag for things attached to a digest: `sha256:<hex>` → `sha256-<hex>` (+ suffix). */
export function digestTag(digest: string, suffix: '' | '.att' | '.sig' = ''): string {
  if (!isSha256Digest(digest)) throw new TypeError(`not a sha256 digest: ${digest}`);
  return `${digest.replace(':', '-')}${suffix}`;
}
