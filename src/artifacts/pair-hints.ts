/**
 * `<marker><URL suffix>` + `<marker><DIGEST suffix>` string results joined by identical marker
 * (prefix, possibly empty), as Chains' structuredSignableExtractor joins them. Suffix matching is
 * case-sensitive. Values are trimmed; a pair with both halves empty is ignored; a pair missing one
 * half, a non-string value, or a value over MAX_HINT_VALUE_BYTES is skipped with a reason.
 * Pairs come out sorted by marker (Chains iterates a Go map here, so its order is random).
 */
import type { RunResult } from '../tekton/index.ts';
import { byteLength, type Extraction, MAX_HINT_VALUE_BYTES, type SkippedInput } from './skipped.ts';

export interface HintPair {
  marker: string;
  uri: string;
  digest: string;
  /** e.g. `TaskRun/build-1 results.IMAGE_DIGEST`: where the digest was read */
  digestSource: string;
}

export function hintPairs(
  results: readonly RunResult[] | undefined,
  source: string,
  uriSuffix: string,
  digestSuffix: string,
): Extraction<HintPair> {
  const halves = new Map<
    string,
    { uri?: string; digest?: string; uriSource?: string; digestSource?: string }
  >();
  const skipped: SkippedInput[] = [];
  for (const r of results ?? []) {
    for (const [suffix, half] of [
      [uriSuffix, 'uri'],
      [digestSuffix, 'digest'],
    ] as const) {
      if (!r.name.endsWith(suffix)) continue;
      const where = `${source}.${r.name}`;
      const value = stringHint(r, where, skipped);
      if (value === undefined) continue;
      const marker = r.name.slice(0, r.name.length - suffix.length);
      const entry = halves.get(marker) ?? {};
      entry[half] = value;
      entry[half === 'uri' ? 'uriSource' : 'digestSource'] = where;
      halves.set(marker, entry);
    }
  }
  const items: HintPair[] = [];
  for (const marker of [...halves.keys()].sort()) {
    const h = halves.get(marker) ?? {};
    if (h.uri && h.digest) {
      items.push({ marker, uri: h.uri, digest: h.digest, digestSource: h.digestSource ?? source });
    } else if (h.uri || h.digest) {
      const missing = h.uri ? `${marker}${digestSuffix}` : `${marker}${uriSuffix}`;
      skipped.push({
        source: (h.uri ? h.uriSource : h.digestSource) ?? source,
        code: 'pair_incomplete',
        reason: `no non-empty ${missing} result to pair with`,
      });
    }
  }
  return { items, skipped };
}

/** The trimmed string value of a hint result, or undefined (recording why when it is not just empty). */
export function stringHint(
  r: RunResult,
  where: string,
  skipped: SkippedInput[],
  limit = MAX_HINT_VALUE_BYTES,
): string | undefined {
  if (typeof r.value !== 'string') {
    skipped.push({ source: where, code: 'not_a_string', reason: 'type hint value must be a string' });
    return undefined;
  }
  if (byteLength(r.value) > limit) {
    skipped.push({ source: where, code: 'value_too_large', reason: `value is over ${limit} bytes` });
    return undefined;
  }
  const v = r.value.trim();
  return v === '' ? undefined : v;
}
