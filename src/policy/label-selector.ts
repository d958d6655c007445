/**
 * A Kubernetes label selector (`matchLabels` and `matchExpressions` with In, NotIn, Exists,
 * DoesNotExist), evaluated as the apiserver does: every requirement must hold; an empty selector
 * matches everything. https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/
 */
import { ObserverError } from '../errors.ts';

export type LabelRequirement =
  | { key: string; operator: 'In' | 'NotIn'; values: string[] }
  | { key: string; operator: 'Exists' | 'DoesNotExist' };

export interface LabelSelector {
  matchLabels: Record<string, string>;
  matchExpressions: LabelRequirement[];
}

export function labelsMatch(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels)) if (labels[k] !== v) return false;
  return selector.matchExpressions.every((r) => requirementHolds(r, labels));
}

function requirementHolds(r: LabelRequirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.hasOwn(labels, r.key);
  switch (r.operator) {
    case 'In':
      return has && r.values.includes(labels[r.key] as string);
    case 'NotIn':
      return !has || !r.values.includes(labels[r.key] as string);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
  }
}

/** Validates a selector as written in the policy; errors name `where`. */
export function parseLabelSelector(value: unknown, where: string): LabelSelector {
  const fail = (why: string): never => {
    throw new ObserverError(`${where}: namespaceSelector ${why}`, {
      code: 'config_invalid',
      retryable: false,
    });
  };
  if (!isMap(value)) return fail('must be a map with matchLabels and/or matchExpressions');
  const { matchLabels = {}, matchExpressions = [], ...rest } = value;
  if (Object.keys(rest).length) fail(`has unknown field(s) ${Object.keys(rest).join(', ')}`);
  if (!isMap(matchLabels) || !Object.values(matchLabels).every((v) => typeof v === 'string'))
    fail('matchLabels must map label keys to strings');
  if (!Array.isArray(matchExpressions)) return fail('matchExpressions must be a list');
  const expressions = matchExpressions.map((e, i): LabelRequirement => {
    if (!isMap(e) || typeof e.key !== 'string') return fail(`matchExpressions[${i}] needs a key`);
    const { key, operator, values } = e;
    if (operator === 'Exists' || operator === 'DoesNotExist') return { key, operator };
    if (operator !== 'In' && operator !== 'NotIn')
      return fail(`matchExpressions[${i}].operator must be In, NotIn, Exists or DoesNotExist`);
    if (!Array.isArray(values) || !values.length || !values.every((v) => typeof v === 'string'))
      return fail(`matchExpressions[${i}].values must be a non-empty list of strings`);
    return { key, operator, values: values as string[] };
  });
  return { matchLabels: matchLabels as Record<string, string>, matchExpressions: expressions };
}

export function isMap(value: unknown): value is Record<string, unknown> {
  return !!value && typeof value === 'object' && !Array.isArray(value);
}
