import { readFileSync } from 'node:fs';
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
 * Reads a kustomize base the way `kustomize build` orders it here: the `resources` files in the listed
 * order, every YAML document of each file in order. Supports plain resource files and the
 * `namespace:` field (set on objects that already name a namespace); anything else kustomize offers
 * is rejected so a test never applies something other than what `kubectl apply -k` would.
 */
export function loadKustomizeBase(dir = DEPLOY_DIR): ManifestObject[] {
  const kustomization = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as Record<
    string,
    unknown
  >;
  const supported = new Set(['apiVersion', 'kind', 'namespace', 'resources']);
  const unsupported = Object.keys(kustomization).filter((k) => !supported.has(k));
  if (unsupported.length > 0)
    throw new Error(`${dir}/kustomization.yaml: unsupported fields ${unsupported.join(', ')}`);
  const namespace = kustomization.namespace as string | undefined;
  const resources = (kustomization.resources as string[] | undefined) ?? [];
  return resources.flatMap((file) => loadFile(dir, file, namespace));
}

function loadFile(dir: string, file: string, namespace: string | undefined): ManifestObject[] {
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
      const metadata = namespace && obj.metadata.namespace ? { ...obj.metadata, namespace } : obj.metadata;
      return { ...obj, metadata, source: file };
    });
}

/** Strips the loader's bookkeeping before an object goes to the apiserver. */
export function toApplyBody(obj: ManifestObject): KubernetesObject {
  const { source: _source, ...body } = obj;
  return body;
}
