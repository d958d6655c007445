import { ObserverError } from '../../errors.ts';
import type { PublicKeyInfo, Signer } from '../signer.ts';
import type { SigningConfig } from '../signing-config.ts';
import { createSigningSource, type SigningSource, type SigningSourceOptions } from '../signing-source.ts';
import { type TenantKeyRule, type TenantKeyRules, tenantOf } from './tenant-key-rules.ts';

/** A tenant's signer, beside the platform's: its signature goes into the same envelope. */
export interface TenantSigner {
  /** the tenant key set's name (`signing.tenant-keys` tenants[].name) */
  tenant: string;
  signer: Signer;
}

/** One tenant's key source and where it comes from. */
export interface TenantKeySource {
  rule: TenantKeyRule;
  /** the Secret read for it (its private key, or with `kmsref` only its retired `*.pub` keys) */
  secret: { namespace: string; name: string };
  source: SigningSource;
}

/**
 * The tenants' signing sources, one per `signing.tenant-keys` entry, each a SigningSource of its
 * own (the Secret's key ring, or the PKCS#11 key), reloaded from its own Secret: rotating one
 * tenant's key touches no other. Never a transparency log of their own (the platform's logs the
 * envelope).
 */
export class TenantKeys {
  readonly rules: TenantKeyRules;
  readonly #sources = new Map<string, TenantKeySource>();

  constructor(
    rules: TenantKeyRules,
    config: SigningConfig,
    options: Omit<SigningSourceOptions, 'config'> = {},
  ) {
    this.rules = rules;
    for (const rule of rules.rules) {
      const secret = {
        namespace: config.signingSecret.namespace,
        name: 'secret' in rule.key ? rule.key.secret : `${config.signingSecret.name}-${rule.name}`,
      };
      const source = createSigningSource({
        ...options,
        config: {
          ...config,
          signingSecret: secret,
          fulcio: { ...config.fulcio, enabled: false },
          kms: { ...config.kms, ...('kmsref' in rule.key ? { ref: rule.key.kmsref } : { ref: undefined }) },
          transparency: { ...config.transparency, mode: 'off' },
        },
      });
      this.#sources.set(rule.name, { rule, secret, source });
    }
  }

  all(): TenantKeySource[] {
    return [...this.#sources.values()];
  }

  get(tenant: string): TenantKeySource | undefined {
    return this.#sources.get(tenant);
  }

  /**
   * The tenant key that also signs this namespace's statements; undefined when none applies
   * (platform key only). Throws key_unavailable (retryable) when the tenant has no usable key now:
   * its statements are never signed by the platform key alone, which a verifier requiring the
   * tenant key would reject anyway.
   */
  signerFor(namespace: string, labels: Readonly<Record<string, string>>): TenantSigner | undefined {
    const rule = tenantOf(this.rules, namespace, labels);
    if (!rule) return undefined;
    const entry = this.#sources.get(rule.name);
    const signer = entry?.source.active();
    if (!entry || !signer)
      throw new ObserverError(
        `no signing key for tenant ${rule.name} (namespace ${namespace}): ${entry?.source.status().message ?? 'not configured'}`,
        { code: 'key_unavailable', retryable: true },
      );
    return { tenant: rule.name, signer };
  }

  /** The tenant a namespace belongs to, by name; undefined = none (throws as signerFor when ambiguous). */
  tenantOf(namespace: string, labels: Readonly<Record<string, string>>): string | undefined {
    return tenantOf(this.rules, namespace, labels)?.name;
  }

  /** The keys published for a namespace: its tenant's (active first, then retired); [] without one. */
  publicKeysFor(namespace: string, labels: Readonly<Record<string, string>>): PublicKeyInfo[] {
    const rule = tenantOf(this.rules, namespace, labels);
    return rule ? (this.#sources.get(rule.name)?.source.publicKeys() ?? []) : [];
  }

  close(): void {
    for (const { source } of this.#sources.values()) source.close?.();
  }
}
