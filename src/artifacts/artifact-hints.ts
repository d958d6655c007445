/**
 * Generic (non-image) artifact hints, as Chains reads them:
 * - `*ARTIFACT_URI` + `*ARTIFACT_DIGEST` string pairs (digest via parseDigest);
 * - `*ARTIFACT_OUTPUTS` / `*ARTIFACT_INPUTS` object results `{uri, digest[, isBuildArtifact]}`:
 *   a string/array value, an empty `uri`/`digest`, an invalid digest or a field over
 *   MAX_HINT_VALUE_BYTES is skipped with a reason. `uri` is kept as written (Chains does not trim it).
 */
import type { RunResult } from '../tekton/index.ts';
import { parseDigest } from './digest.ts';
import { hintPairs } from './pair-hints.ts';
import { byteLength, type Extraction, MAX_HINT_VALUE_BYTES, type SkippedInput } from './skipped.ts';

export interface DigestedArtifact {
  uri: string;
  alg: string;
  hex: string;
}

export interface StructuredArtifact extends DigestedArtifact {
  resultName: string;
  /** `isBuildArtifact` is exactly the string "true" */
  isBuildArtifact: boolean;
}

export const ARTIFACT_OUTPUTS = 'ARTIFACT_OUTPUTS';
export const ARTIFACT_INPUTS = 'ARTIFACT_INPUTS';

export function artifactPairsFromResults(
  results: readonly RunResult[] | undefined,
  source: string,
): Extraction<DigestedArtifact> {
  const pairs = hintPairs(results, source, 'ARTIFACT_URI', 'ARTIFACT_DIGEST');
  const skipped: SkippedInput[] = [...pairs.skipped];
  const items: DigestedArtifact[] = [];
  for (const p of pairs.items) {
    const d = parseDigest(p.digest);
    if (d.ok) items.push({ uri: p.uri, alg: d.alg, hex: d.hex });
    else skipped.push({ source: p.digestSource, code: d.code, reason: d.reason });
  }
  return { items, skipped };
}

export interface StructuredOptions {
  /** Only results whose `isBuildArtifact` is "true" (Chains' ExtractBuildArtifactsFromResults); others are ignored silently. */
  onlyBuildArtifacts?: boolean;
}

/** Object results named `*<suffix>`, in result order. */
export function structuredFromResults(
  results: readonly RunResult[] | undefined,
  source: string,
  suffix: typeof ARTIFACT_OUTPUTS | typeof ARTIFACT_INPUTS,
  options: StructuredOptions = {},
): Extraction<StructuredArtifact> {
  const items: StructuredArtifact[] = [];
  const skipped: SkippedInput[] = [];
  for (const r of results ?? []) {
    if (!r.name.endsWith(suffix)) continue;
    const where = `${source}.${r.name}`;
    const v = r.value;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      skipped.push({
        source: where,
        code: 'not_an_object',
        reason: `${suffix} result must be an object {uri, digest}`,
      });
      continue;
    }
    const obj = v as Readonly<Record<string, string>>;
    const isBuildArtifact = obj.isBuildArtifact === 'true';
    if (options.onlyBuildArtifacts && !isBuildArtifact) continue;
    const checked = checkObject(obj, where, skipped);
    if (checked) items.push({ ...checked, resultName: r.name, isBuildArtifact });
  }
  return { items, skipped };
}

/** True for results Chains' v2alpha4 counts as (valid or invalid) build artifacts, never byproducts. */
export function isBuildArtifactResult(r: RunResult): boolean {
  if (!r.name.endsWith(ARTIFACT_OUTPUTS)) return false;
  const v = r.value;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return true;
  return (v as Readonly<Record<string, string>>).isBuildArtifact === 'true';
}

function checkObject(
  obj: Readonly<Record<string, string>>,
  where: string,
  skipped: SkippedInput[],
): DigestedArtifact | undefined {
  for (const field of ['uri', 'digest'] as const) {
    const value = obj[field];
    if (typeof value !== 'string' || value === '') {
      skipped.push({
        source: where,
        code: 'object_field_missing',
        reason: `object has no non-empty "${field}"`,
      });
      return undefined;
    }
    if (byteLength(value) > MAX_HINT_VALUE_BYTES) {
      skipped.push({
        source: where,
        code: 'value_too_large',
        reason: `"${field}" is over ${MAX_HINT_VALUE_BYTES} bytes`,
      });
      return undefined;
    }
  }
  const d = parseDigest(obj.digest);
  if (!d.ok) {
    skipped.push({ source: where, code: d.code, reason: d.reason });
    return undefined;
  }
  return { uri: obj.uri, alg: d.alg, hex: d.hex };
}
