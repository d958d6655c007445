import { readFile } from 'node:fs/promises';
import type { Logger } from '../observability/index.ts';
import { type KeyRing, loadKeyRing } from './key-ring.ts';
import type { Pkcs11Step } from './pkcs11/pkcs11-signer.ts';
import { pkcs11Source } from './pkcs11/pkcs11-source.ts';
import type { PublicKeyInfo, Signer } from './signer.ts';
import { identityTokenPath, pkcs11PoolSize, type SigningConfig } from './signing-config.ts';
import { LazyKeylessSigner, LazyTransparencyLog } from './sigstore/lazy-sigstore.ts';
import type { TransparencyLog } from './sigstore/transparency-log.ts';

/** The signer in force now, what to publish, and whether signing can work. */
export interface SigningSource {
  /** undefined: no usable key (signing must fail with key_unavailable and be retried) */
  active(): Signer | undefined;
  /** keys for GET /api/v1/keys: active first, then retired; empty for keyless */
  publicKeys(): PublicKeyInfo[];
  /** for /readyz and logs; the message names the Secret and key entry, never key bytes */
  status(): { ready: boolean; message: string };
  /** feed the Secret's current data (the caller polls or watches it); no-op for keyless */
  reload(data: Record<string, Uint8Array>): Promise<void>;
  /** the Rekor log when `transparency.enabled` is true or manual; the caller decides per run (shouldUpload) */
  transparencyLog(): TransparencyLog | undefined;
  /** releases what the source holds (the PKCS#11 sessions and module); absent when nothing */
  close?(): void;
}

export interface SigningSourceOptions {
  config: SigningConfig;
  /** told which signing mode was chosen, once */
  logger?: Pick<Logger, 'info'>;
  /**
   * Reads the OIDC token file for keyless signing, once per signature (projected tokens rotate,
   * so it cannot be read once by config/). Default node:fs/promises readFile.
   */
  readFile?: (path: string) => Promise<Uint8Array>;
  /** PKCS#11 only: told of every token failure and every successful open (the metrics) */
  onTokenError?: (step: Pkcs11Step, reason: string) => void;
  onTokenOpened?: () => void;
}

/**
 * The signing factory: the PKCS#11 key when `kms.ref` is set, keyless (Fulcio) when
 * `fulcio.enabled`, otherwise the key ring from the signing Secret, which starts empty (not
 * ready) until the first reload().
 */
export function createSigningSource(options: SigningSourceOptions): SigningSource {
  const { config, logger } = options;
  const tlog =
    config.transparency.mode === 'off'
      ? undefined
      : new LazyTransparencyLog({ url: config.transparency.url });
  const { ref } = config.kms;
  const source = ref
    ? pkcs11Source({
        uri: ref,
        poolSize: pkcs11PoolSize(config),
        signingSecret: config.signingSecret,
        readFile: options.readFile ?? readFile,
        ...(tlog ? { tlog } : {}),
        ...(options.onTokenError ? { onError: options.onTokenError } : {}),
        ...(options.onTokenOpened ? { onOpened: options.onTokenOpened } : {}),
      })
    : config.fulcio.enabled
      ? keylessSource(config, options, tlog)
      : keyRingSource(config, tlog);
  const mode = ref
    ? `PKCS#11 key ${ref.text.split('?')[0]} (module ${ref.modulePath})`
    : config.fulcio.enabled
      ? `keyless (Fulcio ${config.fulcio.address})`
      : `keys from Secret ${describe(config)}`;
  const witness = tlog ? `, transparency log ${config.transparency.url} (${config.transparency.mode})` : '';
  logger?.info(`signing: ${mode}${witness}`);
  return source;
}

function describe(config: SigningConfig): string {
  return `${config.signingSecret.namespace}/${config.signingSecret.name}`;
}

function keylessSource(
  config: SigningConfig,
  deps: SigningSourceOptions,
  tlog?: TransparencyLog,
): SigningSource {
  const token = identityTokenPath(config);
  const read = deps.readFile ?? readFile;
  const signer =
    'path' in token
      ? new LazyKeylessSigner({
          fulcioUrl: config.fulcio.address,
          identityToken: async () =>
            Buffer.from(await read(token.path))
              .toString('utf8')
              .trim(),
        })
      : undefined;
  const message =
    'path' in token
      ? `keyless signing with Fulcio ${config.fulcio.address}, token from ${token.path}`
      : token.unsupported;
  return {
    active: () => signer,
    publicKeys: () => [],
    status: () => ({ ready: signer !== undefined, message }),
    reload: async () => {},
    transparencyLog: () => tlog,
  };
}

function keyRingSource(config: SigningConfig, tlog?: TransparencyLog): SigningSource {
  let ring: KeyRing = { published: [], problems: [`Secret ${describe(config)}: not loaded yet`] };
  let generation = 0;
  return {
    active: () => ring.active,
    publicKeys: () => ring.published,
    status: () => statusOf(ring),
    reload: async (data) => {
      const mine = ++generation;
      const next = await loadKeyRing(data, config.signingSecret);
      // A slower, older reload must not replace a newer one.
      if (mine === generation) ring = next;
    },
    transparencyLog: () => tlog,
  };
}

function statusOf(ring: KeyRing): { ready: boolean; message: string } {
  const problems = ring.problems.length > 0 ? `; problems: ${ring.problems.join('; ')}` : '';
  if (!ring.active) return { ready: false, message: `no signing key${problems}` };
  const retired = ring.published.filter((k) => !k.active).length;
  return {
    ready: true,
    message: `signing with key ${ring.active.keyId} (${ring.active.algorithm}), ${retired} retired key(s) published${problems}`,
  };
}
