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
 * Reads a kustomization the way `kustomize build` (`kubectl kustomize`) builds it here: the
 * `resources` in the listed order (a file: every YAML document in order; a directory: that
 * kustomization, recursively), then each of `components` (a `kind: Component` kustomization: its
 * resources are added, then its own transformations run over everything accumulated so far), then
 * the `patches` (strategic-merge patches naming kind and name: maps merge, `null` deletes a key,
 * lists of objects merge by `name` as Kubernetes' containers, volumes, env and mounts do,
 * `$patch: delete` removes a list item or, at the top, the object), then the `namespace:` field
 * (set on objects that already name a namespace), `labels:` (`pairs` on every object's
 * metadata, and on pod templates with `includeTemplates: true`; never on selectors) and `images:`
 * (`name` → `newName`, `newTag` or `digest` in every container and init container). Anything else
 * kustomize offers is rejected so a test never applies something other than what `kubectl apply
 * -k` would.
 */
export function loadKustomizeBase(dir = DEPLOY_DIR, from = ''): ManifestObject[] {
  return build(dir, from, []);
}

const SUPPORTED = new Set([
  'apiVersion',
  'kind',
  'namespace',
  'resources',
  'components',
  'patches',
  'labels',
  'images',
]);

function build(dir: string, from: string, accumulated: ManifestObject[]): ManifestObject[] {
  const kustomization = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as Kustomization;
  const unsupported = Object.keys(kustomization).filter((k) => !SUPPORTED.has(k));
  if (unsupported.length > 0)
    throw new Error(`${dir}/kustomization.yaml: unsupported fields ${unsupported.join(', ')}`);
  let objects = [
    ...accumulated,
    ...(kustomization.resources ?? []).flatMap((entry) =>
      statSync(join(dir, entry)).isDirectory()
        ? loadKustomizeBase(join(dir, entry), join(from, entry))
        : loadFile(dir, entry).map((o) => ({ ...o, source: join(from, o.source) })),
    ),
  ];
  for (const component of kustomization.components ?? []) {
    const at = join(dir, component);
    const kind = (parse(readFileSync(join(at, 'kustomization.yaml'), 'utf8')) as Kustomization).kind;
    if (kind !== 'Component') throw new Error(`${at}: components must be of kind Component`);
    objects = build(at, join(from, component), objects);
  }
  for (const patch of kustomization.patches ?? []) {
    if (!patch.path || Object.keys(patch).length !== 1)
      throw new Error(`${dir}/kustomization.yaml: only \`patches: [{path}]\` is supported`);
    for (const p of loadFile(dir, patch.path)) applyPatch(objects, p, join(dir, patch.path));
  }
  const { namespace } = kustomization;
  if (namespace)
    objects = objects.map((o) =>
      o.metadata.namespace ? { ...o, metadata: { ...o.metadata, namespace } } : o,
    );
  for (const label of kustomization.labels ?? []) objects = objects.map((o) => withLabels(o, label));
  for (const image of kustomization.images ?? []) objects = objects.map((o) => withImage(o, image));
  return objects;
}

interface Kustomization {
  kind?: string;
  namespace?: string;
  resources?: string[];
  components?: string[];
  patches?: { path?: string }[];
  labels?: LabelEntry[];
  images?: ImageEntry[];
}

interface LabelEntry {
  pairs: Record<string, string>;
  includeSelectors?: boolean;
  includeTemplates?: boolean;
}

interface ImageEntry {
  name: string;
  newName?: string;
  newTag?: string;
  digest?: string;
}

type PodTemplated = { spec?: { template?: { metadata?: { labels?: Record<string, string> } } } };

/** kustomize's `labels` transformer without selectors: metadata, and pod templates when asked. */
function withLabels(obj: ManifestObject, entry: LabelEntry): ManifestObject {
  if (entry.includeSelectors) throw new Error('labels: includeSelectors is not supported here');
  const labels = { ...(obj.metadata.labels as Record<string, string> | undefined), ...entry.pairs };
  const out = { ...obj, metadata: { ...obj.metadata, labels } } as ManifestObject & PodTemplated;
  const template = out.spec?.template;
  if (entry.includeTemplates && template)
    out.spec = {
      ...out.spec,
      template: {
        ...template,
        metadata: { ...template.metadata, labels: { ...template.metadata?.labels, ...entry.pairs } },
      },
    };
  return out;
}

type Container = { image?: string };
type PodSpecHolder = {
  spec?: { template?: { spec?: { containers?: Container[]; initContainers?: Container[] } } };
};

/** kustomize's `images` transformer: a container image whose name is `entry.name` is rewritten. */
function withImage(obj: ManifestObject, entry: ImageEntry): ManifestObject {
  const pod = (obj as PodSpecHolder).spec?.template?.spec;
  if (!pod) return obj;
  const rewrite = (list?: Container[]) =>
    list?.map((c) =>
      c.image && imageName(c.image) === entry.name ? { ...c, image: newImage(c.image, entry) } : c,
    );
  const spec = {
    ...pod,
    containers: rewrite(pod.containers),
    ...(pod.initContainers ? { initContainers: rewrite(pod.initContainers) } : {}),
  };
  const holder = obj as ManifestObject & PodSpecHolder;
  return {
    ...holder,
    spec: { ...holder.spec, template: { ...holder.spec?.template, spec } },
  } as ManifestObject;
}

/** The repository part of an image reference (no tag, no digest). */
function imageName(image: string): string {
  const at = image.indexOf('@');
  const bare = at < 0 ? image : image.slice(0, at);
  const colon = bare.lastIndexOf(':');
  return colon > bare.lastIndexOf('/') ? bare.slice(0, colon) : bare;
}

function newImage(image: string, entry: ImageEntry): string {
  const name = entry.newName ?? imageName(image);
  if (entry.digest) return `${name}@${entry.digest}`;
  if (entry.newTag) return `${name}:${entry.newTag}`;
  return image.replace(imageName(image), name);
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
  // YAML 1.1 as kubectl reads it (`defaultMode: 0440` is octal there, 288)
  const docs = parseAllDocuments(readFileSync(join(dir, file), 'utf8'), { version: '1.1' });
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
