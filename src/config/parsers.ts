import { ObserverError } from '../errors.ts';
import { type FormatName, parseFormatName } from '../formats/index.ts';
import { parseSubjectPolicy, type SubjectPolicy } from '../policy/index.ts';
import {
  type Pkcs11Uri,
  Pkcs11UriError,
  parsePkcs11Uri,
  parseTenantKeyRules,
  type TenantKeyRules,
} from '../signing/index.ts';

/**
 * How one configuration value is read. `parse` gets the trimmed string (the default when the key
 * is not set) and returns the typed value or throws `config_invalid` naming the key, the value and
 * what is allowed; `allowed` is that same description as it appears in docs/configuration.md.
 */
export interface Parser<T> {
  parse(value: string, key: string): T;
  allowed: string;
}

/** `kms`: the key `signers.kms.kmsref` names (a PKCS#11 URI here). */
export type SignerKind = 'x509' | 'kms' | 'none';
export type BackendChoice = 'tekton' | 'oci';
export type TransparencyMode = 'off' | 'on' | 'manual';
export type OciEncoding = 'dsse' | 'sigstore-bundle';

export function invalid(key: string, value: string, allowed: readonly string[] | string): never {
  const expected = typeof allowed === 'string' ? allowed : `one of: ${quoteAll(allowed)}`;
  throw new ObserverError(
    `config key "${key}" has invalid value ${JSON.stringify(value)}; expected ${expected}`,
    { code: 'config_invalid', retryable: false },
  );
}

const quoteAll = (values: readonly string[]): string => values.map((a) => JSON.stringify(a)).join(', ');
const codeAll = (values: readonly string[]): string => values.map((v) => `\`${v}\``).join(', ');

/** Any string, as given. */
export const text = (allowed = 'string'): Parser<string> => ({ parse: (v) => v, allowed });

/** Any string; "" means unset. */
export const optional = (allowed = 'string'): Parser<string | undefined> => ({
  parse: (v) => v || undefined,
  allowed,
});

/** A comma-separated list; blanks dropped. */
export const list = (allowed = 'comma list'): Parser<string[]> => ({
  parse: (v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
  allowed,
});

/** A comma-separated list with at least one entry. */
export const nonEmptyList = (allowed = 'comma list, at least one'): Parser<string[]> => ({
  parse(value, key) {
    const items = list().parse(value, key);
    if (items.length === 0) invalid(key, value, allowed);
    return items;
  },
  allowed,
});

export function oneOf<const T extends string>(values: readonly T[], allowed = codeAll(values)): Parser<T> {
  return {
    parse(value, key) {
      if (!(values as readonly string[]).includes(value)) invalid(key, value, values);
      return value as T;
    },
    allowed,
  };
}

/** Go's strconv.ParseBool spellings, as Chains accepts them; anything else is an error (Chains ignores it). */
export const bool: Parser<boolean> = {
  parse(value, key) {
    if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
    if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
    return invalid(key, value, ['true', 'false']);
  },
  allowed: 'Go `ParseBool` spellings',
};

export const int = (min: number, max: number): Parser<number> => ({
  parse(value, key) {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max) invalid(key, value, `an integer from ${min} to ${max}`);
    return n;
  },
  allowed: `${min}–${max}`,
});

/** `auto` (computed where it is used) or an integer as `int` takes it. */
export const intOrAuto = (min: number, max: number): Parser<number | 'auto'> => ({
  parse(value, key) {
    if (value === 'auto') return 'auto';
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max)
      invalid(key, value, `\`auto\` or an integer from ${min} to ${max}`);
    return n;
  },
  allowed: `\`auto\`, ${min}–${max}`,
});

export const url = (allowed = 'URL'): Parser<string> => ({
  parse(value, key) {
    try {
      new URL(value);
    } catch {
      invalid(key, value, 'an absolute URI');
    }
    return value;
  },
  allowed,
});

/**
 * A PostgreSQL URL, postgres://user[:password]@host[:port]/database; "" means unset. Errors never
 * repeat the value (it may hold a password). TLS is set by its own keys, so `sslmode` is refused.
 */
export const postgresUrl: Parser<string | undefined> = {
  parse(value, key) {
    if (value === '') return undefined;
    const fail = (why: string): never => {
      throw new ObserverError(`config key "${key}" ${why} (value not shown: it may hold a password)`, {
        code: 'config_invalid',
        retryable: false,
      });
    };
    let parsed: URL | undefined;
    try {
      parsed = new URL(value);
    } catch {
      fail('is not a URL; expected postgres://user@host:port/database');
    }
    if (parsed?.protocol !== 'postgres:' && parsed?.protocol !== 'postgresql:')
      fail('is not a postgres:// URL');
    if (!parsed?.hostname) fail('names no host');
    if (parsed?.searchParams.has('sslmode')) fail('has sslmode: set TLS with index.tls-mode instead');
    return value;
  },
  allowed: '`postgres://user@host:port/database`',
};

const BACKENDS: readonly BackendChoice[] = ['tekton', 'oci'];

/** A set of storage backends, sorted and deduplicated; "" disables the artifact type. */
export const backends: Parser<BackendChoice[]> = {
  parse(value, key) {
    const items = list().parse(value, key);
    for (const item of items) if (!(BACKENDS as string[]).includes(item)) invalid(key, item, BACKENDS);
    return [...new Set(items as BackendChoice[])].sort();
  },
  allowed: `set of ${codeAll(BACKENDS)}; \`""\` disables`,
};

export const signer: Parser<SignerKind> = {
  parse: (value, key) => oneOf(['x509', 'kms', 'none'] as const).parse(value, key),
  allowed: '`x509`, `kms` (with `signers.kms.kmsref`), `none`',
};

/**
 * The cloud KMS schemes Chains accepts in `signers.kms.kmsref`, refused until they are tested
 * against the real services, each with the PKCS#11 route its vendor provides.
 */
const CLOUD_KMS: Record<string, string> = {
  'awskms://': 'AWS CloudHSM ships a PKCS#11 library (/opt/cloudhsm/lib/libcloudhsm_pkcs11.so)',
  'gcpkms://':
    'Google Cloud KMS has a PKCS#11 library, libkmsp11 (github.com/GoogleCloudPlatform/kms-integrations)',
  'azurekms://': 'Azure Managed HSM / Dedicated HSM are reached through their vendor PKCS#11 library',
  'hashivault://':
    'Vault Enterprise offers a PKCS#11 provider (libvault-pkcs11.so) for its Transit/KMIP keys',
};

/** `signers.kms.kmsref`: a `pkcs11:` URI (RFC 7512, see docs/keys.md), or "" (no KMS key). */
export const kmsRef: Parser<Pkcs11Uri | undefined> = {
  parse(value, key) {
    if (value === '') return undefined;
    const cloud = Object.keys(CLOUD_KMS).find((scheme) => value.startsWith(scheme));
    if (cloud)
      throw new ObserverError(
        `config key "${key}": ${cloud} keys are not supported yet (not tested against the real service); use the vendor's PKCS#11 module with a pkcs11: URI instead: ${CLOUD_KMS[cloud]} (docs/keys.md)`,
        { code: 'config_invalid', retryable: false },
      );
    try {
      return parsePkcs11Uri(value);
    } catch (err) {
      if (!(err instanceof Pkcs11UriError)) throw err;
      throw new ObserverError(`config key "${key}": ${err.message} (want a pkcs11: URI, docs/keys.md)`, {
        code: 'config_invalid',
        retryable: false,
      });
    }
  },
  allowed: '`pkcs11:` URI (RFC 7512) with `module-path` and `pin-source`, or `""`',
};

const FORMAT_NAMES = ['slsa/v1.0', 'slsa/v0.2', 'in-toto', 'slsa/v1', 'slsa/v2alpha3', 'slsa/v2alpha4'];

/** Our format names and Chains' (`in-toto`, `slsa/v1` = v0.2; `slsa/v2alpha3`, `slsa/v2alpha4` = v1.0). */
export const formatName = (allowed: string): Parser<FormatName> => ({
  parse(value, key) {
    try {
      return parseFormatName(value);
    } catch {
      return invalid(key, value, FORMAT_NAMES);
    }
  },
  allowed,
});

/** Chains' `transparency.enabled`: `true` uploads every entry, `manual` only annotated runs. */
export const transparency: Parser<TransparencyMode> = {
  parse(value, key) {
    const v = oneOf(['true', 'false', 'manual'] as const).parse(value, key);
    return v === 'true' ? 'on' : v === 'manual' ? 'manual' : 'off';
  },
  allowed: '`true`, `false`, `manual`',
};

/** The subject policy YAML (policy/subject-policy.ts); "" = unset. Errors name the key and the rule. */
export const subjectPolicy: Parser<SubjectPolicy> = {
  parse: (value, key) => parseSubjectPolicy(value, key),
  allowed: 'YAML `rules:` (docs/security.md)',
};

/** An RFC 3339 time with its offset (`2026-12-01T00:00:00Z`); "" means unset. */
export const timestamp: Parser<Date | undefined> = {
  parse(value, key) {
    if (value === '') return undefined;
    const at = new Date(value);
    if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/.test(value) || Number.isNaN(+at))
      invalid(key, value, 'an RFC 3339 time with offset, e.g. `2026-12-01T00:00:00Z`');
    return at;
  },
  allowed: 'RFC 3339 time',
};

/** `signing.tenant-keys`: the tenant key YAML (signing/tenant/tenant-key-rules.ts); "" = none. */
export const tenantKeys: Parser<TenantKeyRules> = {
  parse: (value, key) => parseTenantKeyRules(value, key),
  allowed: 'YAML `tenants:` (docs/keys.md)',
};
