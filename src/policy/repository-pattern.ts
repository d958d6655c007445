/**
 * One repository pattern of the subject policy, compiled once at start-up. A pattern is
 * `host[:port]/path` with:
 * - `${namespace}`: the run's namespace, inserted as literal text;
 * - `*`: any characters inside one path component (no `/`);
 * - `**`: any characters across components (at least one character, `/` included).
 * Everything else is literal; the match is anchored at both ends, so `quay.io/org/*` never matches
 * `quay.io/org/a/b` nor `evil.io/quay.io/org/a`. Run data (the repository a run names, its
 * namespace) is only ever matched or escaped, never compiled into a regular expression.
 */
import { ObserverError } from '../errors.ts';

export interface RepositoryPattern {
  /** the pattern as written in the policy */
  readonly source: string;
  matches(namespace: string, repository: string): boolean;
}

/** the one variable; written with `$` + `{namespace}` so it cannot read as a template string */
export const NAMESPACE_VAR = `$${'{'}namespace}`;
const PATTERN_CHARS = /^[a-z0-9._:/*\-[\]]+$/;

export function compileRepositoryPattern(source: string, where: string): RepositoryPattern {
  const pattern = source.trim();
  checkPattern(source, pattern, where);
  const host = pattern.split('/')[0] ?? '';
  if (!pattern.includes('/') || host.includes('*') || host.includes(NAMESPACE_VAR))
    throw badPattern(source, where, 'must start with a literal registry host followed by /');
  return compiled(pattern);
}

/**
 * A URI pattern of the subject policy (`uris:`), for subjects that are not OCI images: `pkg:` and
 * `https:` URIs and bare names, with the same `${namespace}`, `*` and `**` as repository patterns
 * and the same anchoring. URI subjects reaching it have no whitespace and no `.`/`..`/empty segments
 * (model/subject-ref.ts), so `**` cannot climb out of a prefix.
 */
export function compileUriPattern(source: string, where: string): RepositoryPattern {
  const pattern = source.trim();
  const literal = pattern.split(NAMESPACE_VAR).join('');
  if (literal.includes('$'))
    throw badPattern(source, where, `uses an unknown variable (only ${NAMESPACE_VAR} exists)`);
  if (!/^[A-Za-z0-9._:/*@%+~=&?#!,;-]+$/.test(literal))
    throw badPattern(source, where, 'may hold only URI characters, * and ** (no whitespace)');
  if (/\*{3,}/.test(literal)) throw badPattern(source, where, 'has more than two * in a row');
  if (/^\*/.test(pattern)) throw badPattern(source, where, 'must start with a literal prefix');
  return compiled(pattern);
}

function checkPattern(source: string, pattern: string, where: string): void {
  const literal = pattern.split(NAMESPACE_VAR).join('');
  const bad = (why: string) => badPattern(source, where, why);
  if (literal.includes('$')) throw bad(`uses an unknown variable (only ${NAMESPACE_VAR} exists)`);
  if (!PATTERN_CHARS.test(literal))
    throw bad('may hold only lower-case registry/repository characters, * and **');
  if (/\*{3,}/.test(literal)) throw bad('has more than two * in a row');
}

function badPattern(source: string, where: string, why: string): ObserverError {
  return new ObserverError(`${where}: pattern ${JSON.stringify(source)} ${why}`, {
    code: 'config_invalid',
    retryable: false,
  });
}

function compiled(pattern: string): RepositoryPattern {
  const parts = pattern.split(NAMESPACE_VAR);
  return {
    source: pattern,
    matches(namespace: string, repository: string): boolean {
      const regex = new RegExp(`^${parts.map(globToRegex).join(escapeRegex(namespace))}$`);
      return regex.test(repository);
    },
  };
}

function globToRegex(glob: string): string {
  return glob
    .split('**')
    .map((piece) => piece.split('*').map(escapeRegex).join('[^/]*'))
    .join('.+');
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}
