/**
 * Per-tenant signing keys (`signing.tenant-keys`): which namespaces' statements are also signed by
 * a tenant key, and where that key is. YAML:
 *
 * ```yaml
 * tenants:
 *   - name: team-a                     # the key set's name: in keyids' owner, Events, /api/v1/keys
 *     namespaces: [team-a, team-a-ci]  # by exact name …
 *     namespaceSelector:               # … and/or by label (a Kubernetes label selector)
 *       matchLabels: {example.com/tenant: team-a}
 *     secret: team-a-signing           # a Secret in the observer's namespace (signing-secrets' layout)
 *     # kmsref: "pkcs11:token=team-a;object=signing?module-path=…&pin-source=…"  (instead of secret)
 *     publicKeySecret: team-a-public-key   # optional: a public-key Secret kept equal to its keys
 * ```
 *
 * A namespace listed by name belongs to that tenant; otherwise to the one tenant whose selector
 * matches its labels. Two tenants claiming a namespace (by name, or both by selector) is refused:
 * at parse time for names, at signing time for selectors (labels change at run time), never
 * resolved by order. Tenants never reach any key: the Secrets live in the observer's namespace.
 */
import { parse as parseYaml } from 'yaml';
import { ObserverError } from '../../errors.ts';
import { isMap, type LabelSelector, labelsMatch, parseLabelSelector } from '../../policy/index.ts';
import { type Pkcs11Uri, Pkcs11UriError, parsePkcs11Uri } from '../pkcs11/pkcs11-uri.ts';

export interface TenantKeyRule {
  /** DNS-label-like, 1-40 characters: it becomes part of annotation keys (`<12hex>-<name>`) */
  name: string;
  namespaces: string[];
  selector?: LabelSelector;
  /** where the key is: a Secret of the observer's namespace, or a PKCS#11 key */
  key: { secret: string } | { kmsref: Pkcs11Uri };
  /** the Secret (in `signing.public-key-secret.namespace`) that publishes this tenant's keys */
  publicKeySecret?: string;
}

export interface TenantKeyRules {
  readonly rules: readonly TenantKeyRule[];
  /** whether resolving needs the namespace's labels (some rule has a namespaceSelector) */
  readonly needsLabels: boolean;
}

export const NO_TENANT_KEYS: TenantKeyRules = { rules: [], needsLabels: false };

const NAME = /^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$/;
const KEY = 'signing.tenant-keys';

/** Parses the YAML; "" = no tenant keys. Errors are config_invalid and name the key and tenant. */
export function parseTenantKeyRules(text: string, key = KEY): TenantKeyRules {
  if (text.trim() === '') return NO_TENANT_KEYS;
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw invalid(`${key}: not valid YAML: ${(err as Error).message}`);
  }
  if (!isMap(doc) || !Array.isArray(doc.tenants) || Object.keys(doc).length !== 1)
    throw invalid(`${key}: expected a map with one field, tenants: [...]`);
  const rules = doc.tenants.map((r, i) => parseRule(r, `${key} tenants[${i}]`));
  const seen = new Map<string, string>();
  for (const r of rules) {
    if (rules.filter((o) => o.name === r.name).length > 1)
      throw invalid(`${key}: tenant name "${r.name}" is used twice`);
    for (const ns of r.namespaces) {
      const other = seen.get(ns);
      if (other && other !== r.name)
        throw invalid(`${key}: namespace ${ns} is listed by tenants ${other} and ${r.name}`);
      seen.set(ns, r.name);
    }
  }
  return { rules, needsLabels: rules.some((r) => r.selector) };
}

/**
 * The tenant whose key also signs a namespace's statements; undefined = platform key only.
 * Throws `tenant_key_ambiguous` (retryable: labels may be fixed) when two selectors match.
 */
export function tenantOf(
  config: TenantKeyRules,
  namespace: string,
  labels: Readonly<Record<string, string>>,
): TenantKeyRule | undefined {
  const named = config.rules.find((r) => r.namespaces.includes(namespace));
  if (named) return named;
  const selected = config.rules.filter((r) => r.selector && labelsMatch(r.selector, labels));
  if (selected.length > 1)
    throw new ObserverError(
      `namespace ${namespace} matches the namespaceSelector of tenant keys ${selected.map((r) => r.name).join(' and ')}: nothing is signed until one applies (${KEY})`,
      { code: 'key_unavailable', retryable: true },
    );
  return selected[0];
}

function parseRule(value: unknown, where: string): TenantKeyRule {
  if (!isMap(value)) throw invalid(`${where}: expected a map`);
  const { name, namespaces = [], namespaceSelector, secret, kmsref, publicKeySecret, ...rest } = value;
  if (Object.keys(rest).length) throw invalid(`${where}: unknown field(s) ${Object.keys(rest).join(', ')}`);
  if (typeof name !== 'string' || !NAME.test(name))
    throw invalid(
      `${where}: name must be 1-40 lowercase letters, digits or -, starting and ending alphanumeric`,
    );
  const at = `${where} (${name})`;
  if (!Array.isArray(namespaces) || !namespaces.every((n) => typeof n === 'string' && n !== ''))
    throw invalid(`${at}: namespaces must be a list of names`);
  if (!namespaces.length && namespaceSelector === undefined)
    throw invalid(`${at}: needs namespaces or a namespaceSelector`);
  if ((secret === undefined) === (kmsref === undefined))
    throw invalid(
      `${at}: needs exactly one of secret (a Secret in the observer's namespace) or kmsref (pkcs11:)`,
    );
  for (const [field, v] of Object.entries({ secret, publicKeySecret }))
    if (v !== undefined && (typeof v !== 'string' || !/^[a-z0-9]([-.a-z0-9]{0,251}[a-z0-9])?$/.test(v)))
      throw invalid(`${at}: ${field} must be a Secret name`);
  return {
    name,
    namespaces: namespaces as string[],
    ...(namespaceSelector === undefined ? {} : { selector: parseLabelSelector(namespaceSelector, at) }),
    key: secret !== undefined ? { secret: secret as string } : { kmsref: parseKmsref(kmsref, at) },
    ...(publicKeySecret === undefined ? {} : { publicKeySecret: publicKeySecret as string }),
  };
}

function parseKmsref(value: unknown, at: string): Pkcs11Uri {
  if (typeof value !== 'string') throw invalid(`${at}: kmsref must be a pkcs11: URI`);
  try {
    return parsePkcs11Uri(value);
  } catch (err) {
    if (err instanceof Pkcs11UriError) throw invalid(`${at}: kmsref: ${err.message} (docs/keys.md)`);
    throw err;
  }
}

function invalid(message: string): ObserverError {
  return new ObserverError(message, { code: 'config_invalid', retryable: false });
}
