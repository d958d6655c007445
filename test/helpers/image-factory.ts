import { randomBytes } from 'node:crypto';
import { RegistryClient } from '../../src/oci/index.ts';

const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

/**
 * Pushes many distinct images cheaply: one shared config and layer blob, then one manifest per
 * image that differs only in an annotation, so each image is a real manifest with its own digest
 * and costs one PUT.
 */
export class ImageFactory {
  readonly #client: RegistryClient;
  readonly #repository: string;
  #base?: { config: { digest: string; size: number }; layer: { digest: string; size: number } };

  constructor(options: { registry: string; repository: string }) {
    this.#client = new RegistryClient({ registry: options.registry, insecure: true });
    this.#repository = options.repository;
  }

  /** Pushes image `name` and returns its reference and manifest digest. */
  async push(name: string): Promise<{ ref: string; digest: string }> {
    const base = await this.#blobs();
    const manifest = new TextEncoder().encode(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MANIFEST,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...base.config },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...base.layer }],
        annotations: { 'bench.image': name },
      }),
    );
    const { digest } = await this.#client.putManifest(this.#repository, name, manifest, MANIFEST);
    return { ref: `${this.#client.registry}/${this.#repository}:${name}`, digest };
  }

  async #blobs() {
    if (this.#base) return this.#base;
    const layer = new Uint8Array(randomBytes(64));
    const layerDigest = await this.#client.uploadBlob(this.#repository, layer);
    const config = new TextEncoder().encode(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        rootfs: { type: 'layers', diff_ids: [layerDigest] },
      }),
    );
    const configDigest = await this.#client.uploadBlob(this.#repository, config);
    this.#base = {
      config: { digest: configDigest, size: config.length },
      layer: { digest: layerDigest, size: layer.length },
    };
    return this.#base;
  }
}

/** Runs `fn(i)` for i in [0, count) with at most `concurrency` at once. */
export async function forEachLimited(
  count: number,
  concurrency: number,
  fn: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}
