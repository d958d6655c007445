import { ObserverError } from '../errors.ts';
import type { AttemptContext } from '../model/index.ts';
import { digestTag, isSha256Digest, parseImageManifest, splitRepository } from '../oci/index.ts';
import type { RunRef } from '../tekton/index.ts';
import type { ImageRef } from './backend.ts';
import type { OciClients } from './oci-clients.ts';
import { attestationStoredAs, type PayloadIdentity, type SignatureVerifier } from './oci-stored-payload.ts';

/** What an image's `.att` tag says about one envelope: no tag, a layer holding it, or none that does. */
export type AttestationFound =
  | { found: 'absent' }
  | { found: 'holds'; location: string }
  | { found: 'lacks'; location: string };

/**
 * Reads `<repo>:sha256-<hex>.att` (in `storage.oci.repository` when set, as the OCI backend writes
 * it) with the run's registry credentials and says whether one of its layers is a DSSE envelope
 * of `want`'s payload with a signature `verifies` accepts (the check that makes storing idempotent,
 * oci-stored-payload.ts). Registry outages are thrown (retryable); a tag the observer may not read
 * (denied, a refused host) counts as absent.
 */
export async function findAttestation(
  o: { clients: OciClients; repositoryOverride?: string | undefined },
  run: RunRef,
  image: ImageRef,
  want: PayloadIdentity,
  verifies: SignatureVerifier,
  context?: AttemptContext,
): Promise<AttestationFound> {
  if (!isSha256Digest(image.digest)) return { found: 'absent' };
  let target: { registry: string; repository: string };
  try {
    target = splitRepository(o.repositoryOverride ?? image.repository);
  } catch {
    return { found: 'absent' };
  }
  const { registry, repository } = target;
  const tag = digestTag(image.digest, '.att');
  const location = `${registry}/${repository}:${tag}`;
  try {
    const client = await o.clients.client(run, registry, repository, context);
    const manifest = await client.getManifest(repository, tag, context);
    if (!manifest) return { found: 'absent' };
    const storedAs = attestationStoredAs({ client, repository, verifies }, want);
    for (const layer of parseImageManifest(manifest.bytes, location).layers)
      if (await storedAs(layer, context)) return { found: 'holds', location };
    return { found: 'lacks', location };
  } catch (err) {
    if (err instanceof ObserverError && err.retryable) throw err;
    return { found: 'absent' };
  }
}
