/**
 * `CHAINS-GIT_URL` + `CHAINS-GIT_COMMIT` (exact names) → the source material
 * `{uri: "git+<url>.git", digest: {sha1: <commit>}}` (Chains' SPDXGit: `git+` and `.git` added when
 * missing). Precedence, later wins: spec param defaults < run params < run results.
 * Values are trimmed and not otherwise validated (Chains' tests use "sha:taskrun" as a commit).
 * Unlike Chains, a commit without a URL is skipped (`git_url_missing`) instead of emitting `git+.git`,
 * and a URL without a commit is reported (`pair_incomplete`).
 */
import type { Param, ParamSpec, ParamValue, RunResult } from '../tekton/index.ts';
import type { DigestedArtifact } from './artifact-hints.ts';
import { byteLength, type Extraction, MAX_HINT_VALUE_BYTES, type SkippedInput } from './skipped.ts';

export const GIT_URL = 'CHAINS-GIT_URL';
export const GIT_COMMIT = 'CHAINS-GIT_COMMIT';

export interface GitHintSources {
  defaults?: readonly ParamSpec[];
  params?: readonly Param[];
  results?: readonly RunResult[];
}

export function gitSourceFromHints(sources: GitHintSources, source: string): Extraction<DigestedArtifact> {
  const skipped: SkippedInput[] = [];
  const layers: [string, readonly { name: string; value?: ParamValue }[]][] = [
    ['spec.params(default)', (sources.defaults ?? []).map((p) => ({ name: p.name, value: p.default }))],
    ['params', sources.params ?? []],
    ['results', sources.results ?? []],
  ];
  const found: Record<string, { value: string; where: string }> = {};
  for (const [layer, entries] of layers) {
    for (const e of entries) {
      if ((e.name !== GIT_URL && e.name !== GIT_COMMIT) || e.value === undefined) continue;
      const where = `${source} ${layer}.${e.name}`;
      if (typeof e.value !== 'string') {
        skipped.push({ source: where, code: 'not_a_string', reason: `${e.name} must be a string` });
      } else if (byteLength(e.value) > MAX_HINT_VALUE_BYTES) {
        skipped.push({
          source: where,
          code: 'value_too_large',
          reason: `value is over ${MAX_HINT_VALUE_BYTES} bytes`,
        });
      } else if (e.value.trim() !== '') {
        found[e.name] = { value: e.value.trim(), where };
      }
    }
  }
  const url = found[GIT_URL];
  const commit = found[GIT_COMMIT];
  if (url && commit) return { items: [{ uri: spdxGit(url.value), alg: 'sha1', hex: commit.value }], skipped };
  if (commit)
    skipped.push({
      source: commit.where,
      code: 'git_url_missing',
      reason: `${GIT_COMMIT} without ${GIT_URL}`,
    });
  if (url)
    skipped.push({ source: url.where, code: 'pair_incomplete', reason: `${GIT_URL} without ${GIT_COMMIT}` });
  return { items: [], skipped };
}

/** Chains' attest.SPDXGit(url, ""). */
export function spdxGit(url: string): string {
  const prefixed = url.startsWith('git+') ? url : `git+${url}`;
  return prefixed.endsWith('.git') ? prefixed : `${prefixed}.git`;
}
