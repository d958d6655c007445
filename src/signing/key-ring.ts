import { ObserverError } from '../errors.ts';
import { type KeyEntryRef, keyUnavailable, loadCosignKey, loadPublicKey, loadX509Pem } from './key-loader.ts';
import type { KeySigner } from './key-signer.ts';
import type { PublicKeyInfo } from './signer.ts';

/** The Secret the keys come from, named in every message. */
export interface KeySource {
  namespace: string;
  name: string;
}

export interface KeyRing {
  /** the key that signs now; absent when no usable private key is in the Secret */
  active?: KeySigner;
  /** active key first (when present), then retired keys in entry-name order, unique by keyId */
  published: PublicKeyInfo[];
  /** one message per unusable entry; empty when everything loaded */
  problems: string[];
  /** why there is no active key (code key_unavailable), for readiness and the signing error */
  activeError?: ObserverError;
}

/**
 * Reads the signing Secret's data. Layout (docs/keys.md), a superset of Chains':
 * - active key, Chains' precedence: `x509.pem` if present, else `cosign.key` + `cosign.password`;
 *   no fallback when the chosen entry is broken (as Chains);
 * - every other entry ending in `.pub` (e.g. `cosign.pub`, `retired-2024-06.pub`) is a published
 *   public key; one matching the active key merges into it, the rest are retired keys kept so old
 *   attestations still verify.
 * Never throws: an unusable entry becomes a problem. Async because scrypt runs off the event loop.
 * Rotation = the caller calls loadKeyRing again with the Secret's new data.
 */
export async function loadKeyRing(data: Record<string, Uint8Array>, source: KeySource): Promise<KeyRing> {
  const problems: string[] = [];
  const ref = (entry: string): KeyEntryRef => ({ ...source, entry });
  let active: KeySigner | undefined;
  let activeError: ObserverError | undefined;
  try {
    active = await loadActive(data, ref);
  } catch (err) {
    activeError = err instanceof ObserverError ? err : keyUnavailable(ref('x509.pem'), 'unreadable');
    problems.push(activeError.message);
  }
  const published: PublicKeyInfo[] = [];
  if (active) {
    published.push({
      keyId: active.keyId,
      algorithm: active.algorithm,
      publicKeyPem: active.publicKeyPem,
      active: true,
    });
  }
  for (const entry of Object.keys(data).sort()) {
    if (!entry.endsWith('.pub')) continue;
    try {
      const info = loadPublicKey(data[entry] as Uint8Array, ref(entry));
      if (published.some((p) => p.keyId === info.keyId)) continue;
      if (entry === 'cosign.pub' && active) {
        problems.push(
          `Secret ${source.namespace}/${source.name} key cosign.pub: does not match the active key; published as retired`,
        );
      }
      published.push(info);
    } catch (err) {
      problems.push(err instanceof Error ? err.message : String(err));
    }
  }
  return { ...(active ? { active } : {}), published, problems, ...(activeError ? { activeError } : {}) };
}

async function loadActive(
  data: Record<string, Uint8Array>,
  ref: (entry: string) => KeyEntryRef,
): Promise<KeySigner> {
  const x509 = data['x509.pem'];
  if (x509) return loadX509Pem(x509, ref('x509.pem'));
  const key = data['cosign.key'];
  if (key) {
    const password = data['cosign.password'];
    if (!password) throw keyUnavailable(ref('cosign.password'), 'missing (needed to decrypt cosign.key)');
    return loadCosignKey(key, password, ref('cosign.key'));
  }
  const { namespace, name } = ref('');
  throw new ObserverError(
    `Secret ${namespace}/${name}: no valid private key found, looked for: [x509.pem, cosign.key]`,
    { code: 'key_unavailable', retryable: true },
  );
}
