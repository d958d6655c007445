/**
 * The subject policy (`attestation.subject-policy`): which registry/repository patterns the runs
 * of a namespace may name as subjects. YAML:
 *
 * ```yaml
 * rules:
 *   - name: konflux-tenants                     # names the rule in Events and logs
 *     namespaceSelector:                        # namespaces by label (a Kubernetes label selector) …
 *       matchLabels: {konflux-ci.dev/type: tenant}
 *     repositories:
 *       - quay.io/redhat-user-workloads/${namespace}/*
 *   - name: release
 *     namespaces: [release-team]                # … and/or by exact name
 *     repositories: [quay.io/acme/**]
 *     uris: ["pkg:npm/@acme/*", "https://downloads.acme.com/**"]   # subjects that are not images
 * ```
 *
 * A rule applies to a namespace listed in `namespaces` or matched by `namespaceSelector`. A
 * repository is allowed when one applicable rule has a matching pattern (repository-pattern.ts);
 * a namespace no rule applies to may claim nothing. A subject that is not an OCI image (a `pkg:` or
 * `https:` URI, a bare name: model/subject-ref.ts) is allowed only by a `uris` pattern
 * (compileUriPattern), else it is skipped as `uri_not_allowed`. Unset (empty) policy: everything is allowed,
 * as in Tekton Chains, and the composition root warns at start-up.
 */
import { parse as parseYaml } from 'yaml';
import { ObserverError } from '../errors.ts';
import { isMap, type LabelSelector, labelsMatch, parseLabelSelector } from './label-selector.ts';
import { compileRepositoryPattern, compileUriPattern, type RepositoryPattern } from './repository-pattern.ts';

export type SubjectDecision =
  /** `rule`: the name of the rule that allowed it, or `unset` when there is no policy */
  | { allowed: true; rule: string }
  /** `rule`: the applicable rules (or none) and their patterns, for the Event and log */
  | { allowed: false; rule: string };

export interface SubjectPolicy {
  /** false when no policy is set (everything allowed) */
  readonly configured: boolean;
  /** whether deciding needs the namespace's labels (some rule has a namespaceSelector) */
  readonly needsLabels: boolean;
  allowed(namespace: string, labels: Readonly<Record<string, string>>, repository: string): SubjectDecision;
  /** the same for a subject that is not an OCI image (a `pkg:`/`https:` URI, a bare name) */
  allowedUri(namespace: string, labels: Readonly<Record<string, string>>, uri: string): SubjectDecision;
  /** the rules as written (validated), in order: what the signed policy statement publishes */
  readonly rules: readonly SubjectPolicyRule[];
}

/** One rule as the policy YAML writes it; absent lists are left out. */
export interface SubjectPolicyRule {
  name: string;
  namespaces?: string[];
  namespaceSelector?: unknown;
  repositories?: string[];
  uris?: string[];
}

interface Rule {
  written: SubjectPolicyRule;
  name: string;
  namespaces: string[];
  selector?: LabelSelector;
  patterns: RepositoryPattern[];
  uris: RepositoryPattern[];
}

export const UNSET_SUBJECT_POLICY: SubjectPolicy = {
  configured: false,
  needsLabels: false,
  allowed: () => ({ allowed: true, rule: 'unset' }),
  allowedUri: () => ({ allowed: true, rule: 'unset' }),
  rules: [],
};

/** Parses the policy text; empty text is the unset policy. Errors are config_invalid and name the rule. */
export function parseSubjectPolicy(text: string, key = 'attestation.subject-policy'): SubjectPolicy {
  if (text.trim() === '') return UNSET_SUBJECT_POLICY;
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw invalid(`${key}: not valid YAML: ${(err as Error).message}`);
  }
  if (!isMap(doc) || !Array.isArray(doc.rules) || Object.keys(doc).length !== 1)
    throw invalid(`${key}: expected a map with one field, rules: [...]`);
  const rules = doc.rules.map((r, i) => parseRule(r, `${key} rules[${i}]`));
  const names = rules.map((r) => r.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw invalid(`${key}: rule name "${dup}" is used twice`);
  return policyOf(rules);
}

function policyOf(rules: Rule[]): SubjectPolicy {
  const decide =
    (field: 'patterns' | 'uris') =>
    (namespace: string, labels: Readonly<Record<string, string>>, subject: string): SubjectDecision => {
      const applicable = rules.filter(
        (r) => r.namespaces.includes(namespace) || (r.selector && labelsMatch(r.selector, labels)),
      );
      for (const rule of applicable)
        if (rule[field].some((p) => p.matches(namespace, subject))) return { allowed: true, rule: rule.name };
      if (!applicable.length) return { allowed: false, rule: `no rule applies to namespace ${namespace}` };
      const described = applicable.map(
        (r) => `${r.name} (${r[field].map((p) => p.source).join(', ') || 'none'})`,
      );
      return { allowed: false, rule: described.join('; ') };
    };
  return {
    configured: true,
    needsLabels: rules.some((r) => r.selector),
    allowed: decide('patterns'),
    allowedUri: decide('uris'),
    rules: rules.map((r) => r.written),
  };
}

function parseRule(value: unknown, where: string): Rule {
  if (!isMap(value)) throw invalid(`${where}: expected a map`);
  const { name, namespaces = [], namespaceSelector, repositories = [], uris = [], ...rest } = value;
  if (Object.keys(rest).length) throw invalid(`${where}: unknown field(s) ${Object.keys(rest).join(', ')}`);
  if (typeof name !== 'string' || !/^[A-Za-z0-9._-]{1,63}$/.test(name))
    throw invalid(`${where}: name must be 1-63 characters of letters, digits, . _ -`);
  const at = `${where} (${name})`;
  if (!Array.isArray(namespaces) || !namespaces.every((n) => typeof n === 'string'))
    throw invalid(`${at}: namespaces must be a list of names`);
  if (!namespaces.length && namespaceSelector === undefined)
    throw invalid(`${at}: needs namespaces or a namespaceSelector`);
  for (const [field, list] of [
    ['repositories', repositories],
    ['uris', uris],
  ] as const)
    if (!Array.isArray(list) || !list.every((p) => typeof p === 'string'))
      throw invalid(`${at}: ${field} must be a list of patterns`);
  if (!(repositories as string[]).length && !(uris as string[]).length)
    throw invalid(`${at}: needs repositories or uris (a non-empty list of patterns)`);
  const written: SubjectPolicyRule = structuredClone({
    name,
    ...(value.namespaces === undefined ? {} : { namespaces: namespaces as string[] }),
    ...(namespaceSelector === undefined ? {} : { namespaceSelector }),
    ...(value.repositories === undefined ? {} : { repositories: repositories as string[] }),
    ...(value.uris === undefined ? {} : { uris: uris as string[] }),
  });
  return {
    written,
    name,
    namespaces: namespaces as string[],
    ...(namespaceSelector === undefined ? {} : { selector: parseLabelSelector(namespaceSelector, at) }),
    patterns: (repositories as string[]).map((p) => compileRepositoryPattern(p, at)),
    uris: (uris as string[]).map((p) => compileUriPattern(p, at)),
  };
}

function invalid(message: string): ObserverError {
  return new ObserverError(message, { code: 'config_invalid', retryable: false });
}
