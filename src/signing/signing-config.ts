import type { Pkcs11Uri } from './pkcs11/pkcs11-uri.ts';
import type { TransparencyMode } from './sigstore/transparency-log.ts';

/**
 * What signing needs from the service config; config/ maps Chains' `chains-config` keys onto it
 * (key names in the comments) and validates it. Every field's default is Chains'.
 */
export interface SigningConfig {
  /** the Secret keys come from, for messages (Chains: tekton-chains/signing-secrets) */
  signingSecret: { namespace: string; name: string };
  fulcio: {
    /** `signers.x509.fulcio.enabled`, default false: keyless instead of the Secret's key */
    enabled: boolean;
    /** `signers.x509.fulcio.address`, default https://fulcio.sigstore.dev */
    address: string;
    /**
     * `signers.x509.fulcio.issuer`, default https://oauth2.sigstore.dev/auth. Accepted for
     * compatibility; only interactive OIDC flows use it, and we only read tokens from files.
     */
    issuer: string;
    /**
     * `signers.x509.fulcio.provider`, default '' (Chains: try every provider). We support the
     * file-based ones: '' or 'filesystem' (/var/run/sigstore/cosign/oidc-token) and
     * 'filesystem-custom-path' (implied by `tokenFile`).
     */
    provider?: string;
    /** `signers.x509.identity.token.file`, default '': when set, the token is read from this file */
    tokenFile?: string;
  };
  kms: {
    /** `signers.kms.kmsref`: the PKCS#11 key that signs instead of the Secret's (unset: none) */
    ref?: Pkcs11Uri;
    /** `signers.kms.sessions`, default 0: PKCS#11 sessions; 0 = workers + backlogWorkers (at most 64) */
    sessions: number;
  };
  /** `controller.workers` and `controller.backlog-workers`: how many may sign at once */
  workers: number;
  backlogWorkers: number;
  transparency: {
    /** `transparency.enabled`: "true" → on, "manual" → manual, otherwise off (default) */
    mode: TransparencyMode;
    /** `transparency.url`, default https://rekor.sigstore.dev */
    url: string;
  };
}

/** cosign's filesystem provider path (sigstore/cosign pkg/providers/filesystem). */
export const DEFAULT_OIDC_TOKEN_PATH = '/var/run/sigstore/cosign/oidc-token';

/** The token file keyless signing reads, or why there is none. */
export function identityTokenPath(config: SigningConfig): { path: string } | { unsupported: string } {
  if (config.fulcio.tokenFile) return { path: config.fulcio.tokenFile };
  const provider = config.fulcio.provider ?? '';
  if (provider === '' || provider === 'filesystem') return { path: DEFAULT_OIDC_TOKEN_PATH };
  return {
    unsupported: `signers.x509.fulcio.provider ${provider} is not supported (use filesystem, or set signers.x509.identity.token.file)`,
  };
}

/** The PKCS#11 session pool size: `signers.kms.sessions`, or one per worker that may sign at once. */
export function pkcs11PoolSize(config: SigningConfig): number {
  return config.kms.sessions || Math.min(64, config.workers + config.backlogWorkers);
}
