import { ObserverError } from '../errors.ts';
import { CONFIG_ROWS, IGNORED_KEYS, UNSUPPORTED_KEYS } from './keys.ts';
import type { ObserverConfig } from './schema.ts';

const KNOWN = new Set<string>(CONFIG_ROWS.map((r) => r.key));

/**
 * Validates a flat key→value map (a ConfigMap's data) into a frozen ObserverConfig, row by row of
 * keys.ts. Unlike Chains, nothing invalid is silently ignored: an unknown key, a bad boolean, a
 * storage value we do not have, or `transparency.enabled: yes` all fail with the key and the
 * allowed values.
 */
export function parseConfig(data: Record<string, string>, env: { namespace?: string } = {}): ObserverConfig {
  rejectUnknownKeys(data);
  const config: Record<string, unknown> = {};
  for (const row of CONFIG_ROWS) {
    const value = (data[row.key] ?? row.default).trim();
    setAt(config, row.at, row.parse.parse(value, row.key));
  }
  setAt(config, 'signingSecret.namespace', env.namespace ?? 'provenance-observer');
  checkSigners(config as unknown as ObserverConfig);
  checkTenantKeys(config as unknown as ObserverConfig);
  return deepFreeze(config) as ObserverConfig;
}

/**
 * One key signs everything: the `kms` signer needs `signers.kms.kmsref`, and with a kmsref set
 * an artifact type may not name the `x509` signer (the Secret's key) beside it.
 */
function checkSigners(config: ObserverConfig): void {
  const artifacts = [
    ['artifacts.taskrun.signer', config.taskrun.signer],
    ['artifacts.pipelinerun.signer', config.pipelinerun.signer],
    ['artifacts.oci.signer', config.oci.signer],
  ] as const;
  for (const [key, signer] of artifacts) {
    if (signer === 'kms' && !config.kms.ref)
      throw new ObserverError(`config key "${key}" is kms but signers.kms.kmsref is not set`, {
        code: 'config_invalid',
        retryable: false,
      });
    if (signer === 'x509' && config.kms.ref)
      throw new ObserverError(
        `config key "${key}" is x509 while signers.kms.kmsref is set: one key signs everything here, set it to kms (or none)`,
        { code: 'config_invalid', retryable: false },
      );
  }
}

/**
 * Tenant keys countersign under a platform key the observer holds: not with keyless signing (no
 * published platform key to countersign with), and not with a transparency log yet (Rekor's dsse
 * entries want a verifier for every signature of the envelope; we upload with the platform's only).
 */
function checkTenantKeys(config: ObserverConfig): void {
  if (config.tenantKeys.rules.length === 0) return;
  const refuse = (why: string) => {
    throw new ObserverError(`config key "signing.tenant-keys" ${why} (docs/keys.md, "Per-tenant keys")`, {
      code: 'config_invalid',
      retryable: false,
    });
  };
  if (config.fulcio.enabled) refuse('needs a platform key: not supported with signers.x509.fulcio.enabled');
  if (config.transparency.mode !== 'off')
    refuse(
      'is not supported with transparency.enabled yet: the two-signature envelope would need both keys in the Rekor entry',
    );
}

function rejectUnknownKeys(data: Record<string, string>): void {
  for (const key of Object.keys(data)) {
    if (KNOWN.has(key) || IGNORED_KEYS.includes(key)) continue;
    if (UNSUPPORTED_KEYS.includes(key))
      throw new ObserverError(
        `config key "${key}" (a Tekton Chains setting) is not supported by provenance-observer yet`,
        { code: 'config_invalid', retryable: false },
      );
    throw new ObserverError(`unknown config key "${key}" (see docs/configuration.md)`, {
      code: 'config_invalid',
      retryable: false,
    });
  }
}

/** Sets `path` (dotted) in `target`, creating the objects on the way; undefined leaves it unset. */
function setAt(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  const leaf = parts.pop() as string;
  let node = target;
  for (const part of parts) {
    node[part] ??= {};
    node = node[part] as Record<string, unknown>;
  }
  if (value !== undefined) node[leaf] = value;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
