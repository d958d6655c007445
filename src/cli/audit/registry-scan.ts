import { createHash } from 'node:crypto';
import {
  DSSE_LAYER,
  parseImageManifest,
  parseImageReference,
  RegistryClient,
  type RegistryCredentials,
} from '../../oci/index.ts';
import { verifyEnvelope } from '../../verify/index.ts';
import type { Findings, LogWalk } from './log-walk.ts';

/**
 * Every `.att` layer in `repositories` whose DSSE envelope verifies with one of `keys` (ours) is
 * in the log: an `attested` or `adopted` entry of its payload digest. One that is not was signed
 * with our key outside the observer's decisions (a leaked key, a hand-run signer). Layers our keys
 * do not verify are someone else's and not reported.
 */
export async function scanRegistry(
  repositories: readonly string[],
  keys: readonly string[],
  walk: LogWalk,
  options: { insecure: boolean; credentials?: RegistryCredentials },
  findings: Findings,
): Promise<number> {
  let ours = 0;
  for (const name of repositories) {
    const ref = parseImageReference(name);
    const client = new RegistryClient({
      registry: ref.registry,
      insecure: options.insecure,
      credentials: options.credentials,
    });
    const tags = (await client.listTags(ref.repository)).filter((t) => /^sha256-[0-9a-f]{64}\.att$/.test(t));
    for (const tag of tags) {
      const got = await client.getManifest(ref.repository, tag);
      if (!got) continue;
      const manifest = parseImageManifest(got.bytes, `${name}:${tag}`);
      for (const layer of manifest.layers.filter((l) => l.mediaType === DSSE_LAYER)) {
        const bytes = await client.getBlob(ref.repository, layer.digest);
        if (!keys.some((k) => verifyEnvelope(bytes, k).ok)) continue;
        ours++;
        const payload = (JSON.parse(Buffer.from(bytes).toString('utf8')) as { payload: string }).payload;
        const digest = `sha256:${createHash('sha256').update(Buffer.from(payload, 'base64')).digest('hex')}`;
        if (!walk.payloads.has(digest))
          findings.push(
            `${name}:${tag} layer ${layer.digest} is signed with our key but its payload ${digest} is not in the log`,
          );
      }
    }
  }
  return ours;
}
