import { ObserverError } from '../errors.ts';

/** OCI image-spec shapes, only the fields the observer reads or writes. https://github.com/opencontainers/image-spec */

export interface Descriptor {
  mediaType: string;
  size: number;
  digest: string;
  annotations?: Record<string, string>;
  artifactType?: string;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

const sortedRecord = (r: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/**
 * A descriptor with go-containerregistry's field order (mediaType, size, digest, annotations,
 * artifactType) and sorted annotation keys (Go marshals maps sorted), so our bytes equal cosign's.
 */
export function canonicalDescriptor(d: Descriptor): Descriptor {
  return {
    mediaType: d.mediaType,
    size: d.size,
    digest: d.digest,
    ...(d.annotations ? { annotations: sortedRecord(d.annotations) } : {}),
    ...(d.artifactType ? { artifactType: d.artifactType } : {}),
  };
}

/** Manifest bytes in go-containerregistry's field order; the digest is over exactly these bytes. */
export function serializeManifest(m: ImageManifest): Uint8Array {
  const ordered = {
    schemaVersion: m.schemaVersion,
    mediaType: m.mediaType,
    ...(m.artifactType ? { artifactType: m.artifactType } : {}),
    config: canonicalDescriptor(m.config),
    layers: m.layers.map(canonicalDescriptor),
    ...(m.annotations ? { annotations: sortedRecord(m.annotations) } : {}),
    ...(m.subject ? { subject: canonicalDescriptor(m.subject) } : {}),
  };
  return new TextEncoder().encode(JSON.stringify(ordered));
}

export function serializeIndex(i: ImageIndex): Uint8Array {
  const ordered = {
    schemaVersion: i.schemaVersion,
    mediaType: i.mediaType,
    manifests: i.manifests.map(canonicalDescriptor),
    ...(i.annotations ? { annotations: sortedRecord(i.annotations) } : {}),
  };
  return new TextEncoder().encode(JSON.stringify(ordered));
}

/**
 * Layers per manifest read at most, as cosign (pkg/oci/remote/signatures.go maxLayers): a tag
 * anyone can push to must not make every later append read, merge and re-write a huge manifest.
 */
export const MAX_LAYERS = 1000;

const badManifest = (context: string, reason: string, detail: string) =>
  new ObserverError(`${context}: ${detail} [${reason}]`, {
    code: 'registry',
    retryable: false,
    reason,
    publicMessage: `${context}: ${reason}`,
  });

/**
 * Parses manifest bytes, rejecting what is not an image manifest (an index, a schema 1 manifest)
 * or has more than MAX_LAYERS layers, with reasons registry_bad_answer / registry_too_many_layers.
 */
export function parseImageManifest(bytes: Uint8Array, context: string): ImageManifest {
  let m: Partial<ImageManifest>;
  try {
    m = JSON.parse(new TextDecoder().decode(bytes)) as Partial<ImageManifest>;
  } catch {
    throw badManifest(context, 'registry_bad_answer', 'manifest is not JSON');
  }
  if (m?.schemaVersion !== 2 || !m.config || !Array.isArray(m.layers)) {
    throw badManifest(context, 'registry_bad_answer', 'not an OCI/Docker image manifest');
  }
  if (m.layers.length > MAX_LAYERS)
    throw badManifest(
      context,
      'registry_too_many_layers',
      `${m.layers.length} layers, more than ${MAX_LAYERS}`,
    );
  return m as ImageManifest;
}

export function parseImageIndex(bytes: Uint8Array, context: string): ImageIndex {
  const i = JSON.parse(new TextDecoder().decode(bytes)) as Partial<ImageIndex>;
  if (i.schemaVersion !== 2 || !Array.isArray(i.manifests))
    throw new TypeError(`${context}: not an image index`);
  return i as ImageIndex;
}
