import { ObserverError } from '../errors.ts';
import { parseFormatName } from '../formats/index.ts';
import {
  type ArtifactConfig,
  type BackendChoice,
  type ConfigKey,
  DEFAULTS,
  IGNORED_KEYS,
  type ObserverConfig,
  type SignerKind,
  type TransparencyMode,
  UNSUPPORTED_KEYS,
} from './schema.ts';

/**
 * Validates a flat key→value map (a ConfigMap's data) into a frozen ObserverConfig.
 * Unlike Chains, nothing invalid is silently ignored: an unknown key, a bad boolean, a storage
 * value we do not have, or `transparency.enabled: yes` all fail with the key and the allowed values.
 */
export function parseConfig(data: Record<string, string>, env: { namespace?: string } = {}): ObserverConfig {
  rejectUnknownKeys(data);
  const get = (key: ConfigKey): string => (data[key] ?? DEFAULTS[key]).trim();
  const deep = bool(get, 'artifacts.pipelinerun.enable-deep-inspection');
  const config: ObserverConfig = {
    taskrun: artifact(get, 'taskrun'),
    pipelinerun: {
      ...artifact(get, 'pipelinerun'),
      deepInspection: deep,
      childWaitSeconds: int(get, 'artifacts.pipelinerun.child-wait-seconds', 0, 86_400),
    },
    oci: { storage: backends(get, 'artifacts.oci.storage'), signer: signer(get, 'artifacts.oci.signer') },
    storageOci: {
      repository: get('storage.oci.repository') || undefined,
      insecure: bool(get, 'storage.oci.repository.insecure'),
      insecureRegistries: list(get('storage.oci.insecure-registries')),
      encoding: oneOf(get, 'storage.oci.encoding-format', ['dsse', 'sigstore-bundle'] as const),
    },
    transparency: { mode: transparency(get), url: url(get, 'transparency.url') },
    fulcio: {
      enabled: bool(get, 'signers.x509.fulcio.enabled'),
      address: url(get, 'signers.x509.fulcio.address'),
      issuer: url(get, 'signers.x509.fulcio.issuer'),
      provider: get('signers.x509.fulcio.provider') || undefined,
      tokenFile: get('signers.x509.identity.token.file') || undefined,
    },
    builderId: url(get, 'builder.id'),
    buildType: oneOf(get, 'builddefinition.buildtype', [
      'https://tekton.dev/chains/v2/slsa',
      'https://tekton.dev/chains/v2/slsa-tekton',
    ] as const),
    managedBy: list(get('filter.managed-by')),
    namespaces: list(get('observer.namespaces')),
    signingSecret: {
      namespace: env.namespace ?? 'provenance-observer',
      name: get('signing.secret.name'),
      pollSeconds: int(get, 'signing.secret.poll-seconds', 1, 3600),
    },
    indexPath: get('index.path'),
    http: { host: get('http.host'), port: int(get, 'http.port', 0, 65_535) },
    workers: int(get, 'controller.workers', 1, 256),
    maxAttempts: int(get, 'attestation.max-attempts', 1, 100),
    logLevel: oneOf(get, 'log.level', ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const),
  };
  if (get('artifacts.oci.format') !== 'simplesigning')
    invalid('artifacts.oci.format', get('artifacts.oci.format'), ['simplesigning']);
  return deepFreeze(config);
}

type Get = (key: ConfigKey) => string;

function invalid(key: string, value: string, allowed: readonly string[] | string): never {
  const expected =
    typeof allowed === 'string' ? allowed : `one of: ${allowed.map((a) => JSON.stringify(a)).join(', ')}`;
  throw new ObserverError(
    `config key "${key}" has invalid value ${JSON.stringify(value)}; expected ${expected}`,
    {
      code: 'config_invalid',
      retryable: false,
    },
  );
}

function rejectUnknownKeys(data: Record<string, string>): void {
  for (const key of Object.keys(data)) {
    if (key in DEFAULTS || IGNORED_KEYS.includes(key)) continue;
    if (UNSUPPORTED_KEYS.includes(key))
      throw new ObserverError(
        `config key "${key}" (a Tekton Chains setting) is not supported by provenance-observer yet`,
        {
          code: 'config_invalid',
          retryable: false,
        },
      );
    throw new ObserverError(`unknown config key "${key}" (see docs/configuration.md)`, {
      code: 'config_invalid',
      retryable: false,
    });
  }
}

function list(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function oneOf<T extends string>(get: Get, key: ConfigKey, allowed: readonly T[]): T {
  const value = get(key);
  if (!(allowed as readonly string[]).includes(value)) invalid(key, value, allowed);
  return value as T;
}

/** Go's strconv.ParseBool spellings, as Chains accepts them; anything else is an error (Chains ignores it). */
function bool(get: Get, key: ConfigKey): boolean {
  const value = get(key);
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  return invalid(key, value, ['true', 'false']);
}

function int(get: Get, key: ConfigKey, min: number, max: number): number {
  const value = get(key);
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) invalid(key, value, `an integer from ${min} to ${max}`);
  return n;
}

function url(get: Get, key: ConfigKey): string {
  const value = get(key);
  try {
    new URL(value);
  } catch {
    invalid(key, value, 'an absolute URI');
  }
  return value;
}

function backends(get: Get, key: ConfigKey): BackendChoice[] {
  const allowed: BackendChoice[] = ['tekton', 'oci'];
  const items = list(get(key));
  for (const item of items) if (!(allowed as string[]).includes(item)) invalid(key, item, allowed);
  return [...new Set(items as BackendChoice[])].sort();
}

function signer(get: Get, key: ConfigKey): SignerKind {
  const value = get(key);
  if (value === 'kms')
    throw new ObserverError(`config key "${key}": signer "kms" is not supported yet`, {
      code: 'config_invalid',
      retryable: false,
    });
  return oneOf(get, key, ['x509', 'none'] as const);
}

function artifact(get: Get, kind: 'taskrun' | 'pipelinerun'): ArtifactConfig {
  const formatKey = `artifacts.${kind}.format` as const;
  let format: ArtifactConfig['format'];
  try {
    format = parseFormatName(get(formatKey));
  } catch {
    return invalid(formatKey, get(formatKey), [
      'slsa/v1.0',
      'slsa/v0.2',
      'in-toto',
      'slsa/v1',
      'slsa/v2alpha3',
      'slsa/v2alpha4',
    ]);
  }
  return {
    format,
    storage: backends(get, `artifacts.${kind}.storage`),
    signer: signer(get, `artifacts.${kind}.signer`),
  };
}

function transparency(get: Get): TransparencyMode {
  const value = oneOf(get, 'transparency.enabled', ['true', 'false', 'manual'] as const);
  return value === 'true' ? 'on' : value === 'manual' ? 'manual' : 'off';
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** Whether an artifact type produces anything: Chains' Artifact.Enabled(). */
export const artifactEnabled = (a: { storage: readonly string[]; signer: SignerKind }): boolean =>
  a.signer !== 'none' && a.storage.length > 0;
