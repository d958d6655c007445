import { randomBytes } from 'node:crypto';
import { RegistryClient } from '../../src/oci/index.ts';

/**
 * Pushes a tiny, unique OCI image (one random layer) to a plain-HTTP registry and returns its
 * manifest digest, as a build would have. The bytes are random so every call is a new digest.
 */
export async function pushTestImage(
  registry: string,
  repository: string,
  tag = 'latest',
): Promise<{ digest: string; ref: string }> {
  const client = new RegistryClient({ registry, insecure: true });
  const digest = await pushTestImageWith(client, repository, tag);
  return { digest, ref: `${registry}/${repository}:${tag}` };
}

/** The same through a given client (e.g. one with credentials); returns the manifest digest. */
export async function pushTestImageWith(
  client: RegistryClient,
  repository: string,
  tag = 'latest',
): Promise<string> {
  const layer = new Uint8Array(randomBytes(64));
  const layerDigest = await client.uploadBlob(repository, layer);
  const config = new TextEncoder().encode(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [layerDigest] },
      config: {},
    }),
  );
  const configDigest = await client.uploadBlob(repository, config);
  const manifest = new TextEncoder().encode(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: configDigest,
        size: config.length,
      },
      layers: [
        { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: layer.length },
      ],
    }),
  );
  const { digest } = await client.putManifest(
    repository,
    tag,
    manifest,
    'application/vnd.oci.image.manifest.v1+json',
  );
  return digest;
}
