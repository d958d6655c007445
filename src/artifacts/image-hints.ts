/**
 * OCI images a run reports: `*IMAGE_URL` + `*IMAGE_DIGEST` pairs (sorted by marker), then every
 * entry of the `IMAGES` result (split on `,` and newlines, trimmed, empties dropped), each parsed as
 * go-containerregistry does (tags dropped, Docker Hub names normalised). Deduplicated by
 * `repository@digest`, first occurrence kept. These become subjects in every format and are the
 * images Chains signs (simplesigning) for TaskRuns.
 */
import type { RunResult } from '../tekton/index.ts';
import { clip } from './digest.ts';
import { type ImageDigestRef, parseImageDigestRef } from './image-ref.ts';
import { hintPairs, stringHint } from './pair-hints.ts';
import { type Extraction, MAX_IMAGES_VALUE_BYTES, type SkippedInput } from './skipped.ts';

export const IMAGES_RESULT = 'IMAGES';

export function imagesFromResults(
  results: readonly RunResult[] | undefined,
  source: string,
): Extraction<ImageDigestRef> {
  const pairs = hintPairs(results, source, 'IMAGE_URL', 'IMAGE_DIGEST');
  const skipped: SkippedInput[] = [...pairs.skipped];
  const items: ImageDigestRef[] = [];
  const add = (ref: string, where: string): void => {
    const parsed = parseImageDigestRef(ref);
    if (!parsed.ok) {
      skipped.push({ source: where, code: parsed.code, reason: `${parsed.reason}: "${clip(ref)}"` });
      return;
    }
    if (!items.some((i) => i.repository === parsed.repository && i.digest === parsed.digest)) {
      items.push({ repository: parsed.repository, digest: parsed.digest });
    }
  };
  for (const p of pairs.items) add(`${p.uri}@${p.digest}`, p.digestSource);
  for (const r of results ?? []) {
    if (r.name !== IMAGES_RESULT) continue;
    const where = `${source}.${r.name}`;
    const value = stringHint(r, where, skipped, MAX_IMAGES_VALUE_BYTES);
    for (const entry of (value ?? '').split(/[,\n]/)) {
      if (entry.trim() !== '') add(entry.trim(), where);
    }
  }
  return { items, skipped };
}
