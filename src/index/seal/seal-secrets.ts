import type { SealSecrets } from './index-seal.ts';

/** Entry of the signing Secret holding the seal key (at least 32 random bytes). */
export const SEAL_KEY_ENTRY = 'index-seal.key';
/** Entry holding the seal key rotated out, kept so rows it sealed still verify. */
export const PREVIOUS_SEAL_KEY_ENTRY = 'index-seal.previous.key';
const MIN_SECRET_BYTES = 32;

/**
 * The seal secrets a signing Secret's data holds (docs/keys.md, "The index seal"):
 * - `index-seal.key` when present (and `index-seal.previous.key` for verification);
 * - otherwise the active private key's own entries (`x509.pem`, else `cosign.key` with
 *   `cosign.password`), so the seal needs no new entry and rotates with the signing key;
 * - nothing when the Secret holds neither (keyless signing without `index-seal.key`): the caller
 *   keeps sealing with the process's own key and says so.
 * `problem` names an entry that is there and unusable (too short); it is never key material.
 */
export function sealSecretsFrom(
  data: Readonly<Record<string, Uint8Array>>,
  where: string,
): { secrets?: SealSecrets; problem?: string } {
  const explicit = data[SEAL_KEY_ENTRY];
  const previousEntry = data[PREVIOUS_SEAL_KEY_ENTRY];
  const previous = previousEntry && previousEntry.length >= MIN_SECRET_BYTES ? [previousEntry] : [];
  const short = (entry: string) =>
    `Secret ${where} key ${entry}: shorter than ${MIN_SECRET_BYTES} bytes, not used`;
  const problem =
    previousEntry && previous.length === 0
      ? short(PREVIOUS_SEAL_KEY_ENTRY)
      : explicit && explicit.length < MIN_SECRET_BYTES
        ? short(SEAL_KEY_ENTRY)
        : undefined;
  if (explicit && explicit.length >= MIN_SECRET_BYTES)
    return { secrets: { current: explicit, previous }, ...(problem ? { problem } : {}) };
  const derived = privateKeyEntries(data);
  if (!derived) return problem ? { problem } : {};
  return { secrets: { current: derived, previous }, ...(problem ? { problem } : {}) };
}

/** The bytes of the entries that make the active private key, as loadKeyRing chooses it. */
function privateKeyEntries(data: Readonly<Record<string, Uint8Array>>): Uint8Array | undefined {
  const x509 = data['x509.pem'];
  if (x509?.length) return Buffer.concat([Buffer.from('x509.pem\0'), x509]);
  const key = data['cosign.key'];
  const password = data['cosign.password'];
  if (key?.length && password)
    return Buffer.concat([Buffer.from('cosign.key\0'), key, Buffer.from('\0'), password]);
  return undefined;
}
