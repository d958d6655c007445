/**
 * Chains' AppendSubjects/AppendMaterials: an item equivalent to one already in the list (same key —
 * `name` for subjects, `uri` for materials — and at least one identical algorithm:hex pair) is
 * merged into it (digest sets unioned, existing entries kept); otherwise it is appended.
 * Returns a new list; inputs are not mutated.
 */
import type { ResourceDescriptor } from '../intoto/index.ts';

export function appendMerged(
  list: readonly ResourceDescriptor[],
  key: 'name' | 'uri',
  items: readonly ResourceDescriptor[],
): ResourceDescriptor[] {
  const out = list.map((d) => ({ ...d, digest: { ...d.digest } }));
  for (const item of items) {
    const same = out.find((d) => d[key] === item[key] && sharesDigest(d.digest ?? {}, item.digest ?? {}));
    if (same) same.digest = { ...item.digest, ...same.digest };
    else out.push({ ...item, digest: { ...item.digest } });
  }
  return out;
}

function sharesDigest(a: Record<string, string>, b: Record<string, string>): boolean {
  return Object.entries(b).some(([alg, hex]) => a[alg] === hex);
}
