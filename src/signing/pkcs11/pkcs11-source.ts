import { type KeyRing, loadKeyRing } from '../key-ring.ts';
import type { PublicKeyInfo, Signer } from '../signer.ts';
import type { SigningSource } from '../signing-source.ts';
import type { TransparencyLog } from '../sigstore/transparency-log.ts';
import type { Pkcs11Api } from './pkcs11-binding.ts';
import { Pkcs11Key, type Pkcs11KeyInfo, Pkcs11Signer, type Pkcs11Step } from './pkcs11-signer.ts';
import type { Pkcs11Uri } from './pkcs11-uri.ts';

export interface Pkcs11SourceOptions {
  uri: Pkcs11Uri;
  poolSize: number;
  /** the signing Secret, whose `*.pub` entries stay published as retired keys */
  signingSecret: { namespace: string; name: string };
  readFile: (path: string) => Promise<Uint8Array>;
  tlog?: TransparencyLog;
  newApi?: () => Pkcs11Api;
  /** told of every token failure and every successful open, for the metrics */
  onError?: (step: Pkcs11Step, reason: string) => void;
  onOpened?: () => void;
}

/**
 * The signing source of `signers.kms.kmsref: pkcs11:…`: the token key signs; the Secret's `.pub`
 * entries (a key used before the HSM, say) stay published as retired. Ready while the token
 * answers: a failed signature or open makes /readyz say why until the next success; a failing
 * token is re-opened by the next signature (each attempt retries with the run's backoff), by a
 * status() call (the /readyz probe) and by reload() (a changed signing Secret).
 */
export function pkcs11Source(options: Pkcs11SourceOptions): SigningSource & { key: Pkcs11Key } {
  const key = new Pkcs11Key(options);
  let signer: Pkcs11Signer | undefined;
  let ring: KeyRing = { published: [], problems: [] };
  const current = (info: Pkcs11KeyInfo | undefined): Pkcs11Signer | undefined => {
    if (info && signer?.keyId !== info.keyId) signer = new Pkcs11Signer(key, info);
    return signer;
  };
  const tryOpen = () => key.open().then(current, () => undefined);
  return {
    key,
    active: (): Signer | undefined => {
      if (!key.info) void tryOpen();
      return current(key.info);
    },
    publicKeys: () => publishedKeys(key.info, ring.published),
    status: () => {
      const error = key.lastError;
      // a readiness probe of a failed token tries it again, so /readyz recovers without a signature
      if (error) void tryOpen();
      if (!key.info) return { ready: false, message: `${key.describe()}: ${error ?? 'not opened yet'}` };
      if (error) return { ready: false, message: `${key.describe()} (${key.info.keyId}): ${error}` };
      return {
        ready: true,
        message: `signing with ${key.describe()} (${key.info.keyId}, ${key.info.algorithm})`,
      };
    },
    reload: async (data) => {
      ring = await loadKeyRing(data, options.signingSecret);
      if (!key.info || key.lastError) await tryOpen();
    },
    transparencyLog: () => options.tlog,
    close: () => key.close(),
  };
}

function publishedKeys(info: Pkcs11KeyInfo | undefined, fromSecret: PublicKeyInfo[]): PublicKeyInfo[] {
  const active: PublicKeyInfo[] = info
    ? [{ keyId: info.keyId, algorithm: info.algorithm, publicKeyPem: info.publicKeyPem, active: true }]
    : [];
  const retired = fromSecret.filter((k) => k.keyId !== info?.keyId).map((k) => ({ ...k, active: false }));
  return [...active, ...retired];
}
