import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { parse, parseAllDocuments } from 'yaml';

/** The repository's kustomize base. */
export const DEPLOY_DIR = resolve(import.meta.dirname, '../../deploy');

export interface ManifestObject extends KubernetesObject {
  kind: string;
  apiVersion: string;
  metadata: { name: string; namespace?: string; [k: string]: unknown };
  /** the file it came from, relative to the kustomization */
  source: string;
}

/**
 * Reads a kustomization the way `kustomize build` orders it here: the `resources` in the listed order
 * (a file: every YAML document in order; a directory: that kustomization, recursively), then the
 * `patches` (strategic-merge patches naming kind and name: maps merge, `null` deletes a key, lists of
 * objects merge by `name` as Kubernetes' containers, volumes, env and mounts do, `$patch: delete`
 * removes a list item or, at the top, the object), then the `namespace:` field
 * (set on objects that already name a namespace). Anything else kustomize offers is rejected so a
 * test never applies something other than what `kubectl apply -k` would.
 */
export function loadKustomizeBase(dir = DEPLOY_DIR, from = ''): ManifestObject[] {
  const kustomization = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as Record<
    string,
    unknown
  >;
  const supported = new Set(['apiVersion', 'kind', 'namespace', 'resources', 'patches']);
  const unsupported = Object.keys(kustomization).filter((k) => !supported.has(k));
  if (unsupported.length > 0)
    throw new Error(`${dir}/kustomization.yaml: unsupported fields ${unsupported.join(', ')}`);
  const namespace = kustomization.namespace as string | undefined;
  const resources = (kustomization.resources as string[] | undefined) ?? [];
  const objects = resources.flatMap((entry) =>
    statSync(join(dir, entry)).isDirectory()
      ? loadKustomizeBase(join(dir, entry), join(from, entry))
      : loadFile(dir, entry).map((o) => ({ ...o, source: join(from, o.source) })),
  );
  const patches = (kustomization.patches as { path?: string }[] | undefined) ?? [];
  for (const patch of patches) {
    if (!patch.path || Object.keys(patch).length !== 1)
      throw new Error(`${dir}/kustomization.yaml: only \`patches: [{path}]\` is supported`);
    for (const p of loadFile(dir, patch.path)) applyPatch(objects, p, join(dir, patch.path));
  }
  return objects.map((o) =>
    namespace && o.metadata.namespace ? { ...o, metadata: { ...o.metadata, namespace } } : o,
  );
}

/** Strategic-merge `patch` into the object of the same kind and name (maps merge, null deletes). */
function applyPatch(objects: ManifestObject[], patch: ManifestObject, file: string): void {
  const i = objects.findIndex((o) => o.kind === patch.kind && o.metadata.name === patch.metadata.name);
  if (i < 0) throw new Error(`${file}: no ${patch.kind} ${patch.metadata.name} to patch`);
  if ((patch as { $patch?: string }).$patch === 'delete') {
    objects.splice(i, 1);
    return;
  }
  const { source: _source, ...body } = patch;
  objects[i] = { ...(mergeMaps(objects[i], body, file) as ManifestObject), source: objects[i]!.source };
}

function mergeMaps(target: unknown, patch: unknown, file: string): unknown {
  if (Array.isArray(patch)) return mergeNamedList(target, patch, file);
  if (patch === null || typeof patch !== 'object') return patch;
  const out: Record<string, unknown> = { ...(target as Record<string, unknown>) };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergeMaps(out[k], v, file);
  }
  return out;
}

/** Strategic merge of a list whose items are keyed by `name` (the merge key of the lists we patch). */
function mergeNamedList(target: unknown, patch: unknown[], file: string): unknown[] {
  const named = (v: unknown): v is { name: string; $patch?: string } =>
    typeof v === 'object' && v !== null && typeof (v as { name?: unknown }).name === 'string';
  if (target === undefined) return patch;
  if (!Array.isArray(target) || !patch.every(named) || !target.every(named))
    throw new Error(`${file}: only lists of objects keyed by \`name\` can be patched here`);
  const out = [...target];
  for (const item of patch) {
    const i = out.findIndex((t) => t.name === item.name);
    if (item.$patch === 'delete') {
      if (i >= 0) out.splice(i, 1);
    } else if (i >= 0) out[i] = mergeMaps(out[i], item, file) as { name: string };
    else out.push(item);
  }
  return out;
}

function loadFile(dir: string, file: string): ManifestObject[] {
  const docs = parseAllDocuments(readFileSync(join(dir, file), 'utf8'));
  return docs
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]?.message}`);
      return doc.toJS() as Omit<ManifestObject, 'source'> | null;
    })
    .filter((obj): obj is Omit<ManifestObject, 'source'> => obj !== null)
    .map((obj) => {
      if (!obj.kind || !obj.apiVersion || !obj.metadata?.name)
        throw new Error(`${file}: object without kind/name`);
      return { ...obj, source: file };
    });
}

/** Strips the loader's bookkeeping before an object goes to the apiserver. */
export function toApplyBody(obj: ManifestObject): KubernetesObject {
  const { source: _source, ...body } = obj;
  return body;
}
