import { digestTag, RegistryClient } from '../../src/oci/index.ts';

/**
 * How many layers the cosign-layout manifest `sha256-<hex>.att` / `.sig` of image `digest` holds in
 * the registry (0 when there is none): one per signed payload stored, so a duplicate shows as 2.
 */
export async function layerCount(
  registry: string,
  repository: string,
  digest: string,
  suffix: '.att' | '.sig',
): Promise<number> {
  const client = new RegistryClient({ registry, insecure: true });
  const m = await client.getManifest(repository, digestTag(digest, suffix));
  return m ? (JSON.parse(new TextDecoder().decode(m.bytes)).layers as unknown[]).length : 0;
}
