import {
  DSSE_LAYER,
  digestTag,
  type ImageManifest,
  parseImageManifest,
  parseImageReference,
  RegistryClient,
  type RegistryCredentials,
  SIMPLESIGNING_LAYER,
} from '../oci/index.ts';
import { verifyEnvelope } from './envelope.ts';
import { type Check, checkAttestation, checkBlobDigest, checkSimpleSigning } from './image-checks.ts';

export type { Check };

export interface VerifyImageOptions {
  /** `host/repo:tag` or `host/repo@sha256:…` */
  image: string;
  /** the key attestations and signatures must verify with (PKIX PEM) */
  publicKeyPem: string;
  /**
   * further keys that must each sign too (`verify --require both`: the tenant key beside the
   * platform's): every attestation carries a valid signature of each, each `.sig` layer verifies
   * with one of the keys, and each key has a `.sig` layer when there are any. Default none.
   */
  alsoRequired?: readonly string[];
  /** plain HTTP; default false */
  insecure?: boolean;
  credentials?: RegistryCredentials;
  /** when set, every attestation must have this predicate type */
  predicateType?: string;
  /** fail when there is no `.sig`; default false (attestations are what the observer promises) */
  requireSignature?: boolean;
  /** default global fetch */
  fetch?: typeof fetch;
}

export interface ImageVerification {
  ok: boolean;
  /** `host/repo@sha256:…` once resolved */
  image?: string;
  checks: Check[];
}

/**
 * Verifies what the observer (or cosign, or Chains) attached to an image in the cosign tag layout,
 * reading the registry only: resolves the digest, then every `.att` layer (blob digest, DSSE
 * signature, a subject equal to the image digest, predicate type) and every `.sig` layer (blob
 * digest, simplesigning image digest, signature). ok only if every check passed and at least one
 * attestation exists. Registry failures become a failed check, never a throw.
 */
export async function verifyImage(o: VerifyImageOptions): Promise<ImageVerification> {
  const checks: Check[] = [];
  const done = (image?: string): ImageVerification => ({
    ok: checks.length > 0 && checks.every((c) => c.ok),
    ...(image ? { image } : {}),
    checks,
  });
  let ref: ReturnType<typeof parseImageReference>;
  try {
    ref = parseImageReference(o.image);
  } catch (err) {
    checks.push({ name: 'reference', ok: false, detail: (err as Error).message });
    return done();
  }
  const client = new RegistryClient({
    registry: ref.registry,
    insecure: o.insecure,
    credentials: o.credentials,
    fetch: o.fetch,
  });
  try {
    const resolved = await client.getManifest(ref.repository, ref.digest ?? ref.tag ?? 'latest');
    if (!resolved) {
      checks.push({ name: 'resolve digest', ok: false, detail: `${o.image} not found` });
      return done();
    }
    const digest = resolved.digest;
    checks.push({ name: 'resolve digest', ok: true, detail: digest });
    await verifyAttestations(client, ref.repository, digest, o, checks);
    await verifySignatures(client, ref.repository, digest, o, checks);
    return done(`${ref.registry}/${ref.repository}@${digest}`);
  } catch (err) {
    checks.push({ name: 'registry', ok: false, detail: (err as Error).message });
    return done();
  }
}

async function readTag(
  client: RegistryClient,
  repository: string,
  tag: string,
): Promise<ImageManifest | undefined> {
  const m = await client.getManifest(repository, tag);
  return m ? parseImageManifest(m.bytes, `${client.registry}/${repository}:${tag}`) : undefined;
}

async function verifyAttestations(
  client: RegistryClient,
  repository: string,
  digest: string,
  o: VerifyImageOptions,
  checks: Check[],
) {
  const tag = digestTag(digest, '.att');
  const manifest = await readTag(client, repository, tag);
  const layers = manifest?.layers.filter((l) => l.mediaType === DSSE_LAYER) ?? [];
  checks.push({
    name: 'attestations (.att)',
    ok: layers.length > 0,
    detail: `${layers.length} DSSE layer(s) at ${tag}`,
  });
  for (const [i, layer] of layers.entries()) {
    const bytes = await client.getBlob(repository, layer.digest);
    const prefix = `.att layer ${i} (${layer.digest.slice(7, 19)})`;
    checks.push(checkBlobDigest(`${prefix} blob digest`, layer, bytes));
    checks.push(...checkAttestation(prefix, bytes, digest, o.publicKeyPem, o.predicateType));
    for (const [k, key] of (o.alsoRequired ?? []).entries()) {
      const verdict = verifyEnvelope(bytes, key);
      const detail = verdict.ok ? `verified by ${verdict.keyId}` : verdict.reason;
      checks.push({ name: `${prefix} DSSE signature of required key ${k + 2}`, ok: verdict.ok, detail });
    }
  }
}

async function verifySignatures(
  client: RegistryClient,
  repository: string,
  digest: string,
  o: VerifyImageOptions,
  checks: Check[],
) {
  const tag = digestTag(digest, '.sig');
  const manifest = await readTag(client, repository, tag);
  const layers = manifest?.layers.filter((l) => l.mediaType === SIMPLESIGNING_LAYER) ?? [];
  if (layers.length === 0) {
    checks.push({ name: 'signatures (.sig)', ok: !o.requireSignature, detail: `no signature at ${tag}` });
    return;
  }
  checks.push({
    name: 'signatures (.sig)',
    ok: true,
    detail: `${layers.length} signature layer(s) at ${tag}`,
  });
  const keys = [o.publicKeyPem, ...(o.alsoRequired ?? [])];
  for (const [i, layer] of layers.entries()) {
    const bytes = await client.getBlob(repository, layer.digest);
    const prefix = `.sig layer ${i} (${layer.digest.slice(7, 19)})`;
    checks.push(checkBlobDigest(`${prefix} blob digest`, layer, bytes));
    checks.push(...checkSimpleSigning(prefix, layer, bytes, digest, keys));
  }
  // with several required keys, each must have signed: one `.sig` layer per key
  if (keys.length > 1)
    for (const [k, key] of keys.entries()) {
      const signed = [];
      for (const layer of layers) {
        const bytes = await client.getBlob(repository, layer.digest);
        if (checkSimpleSigning('', layer, bytes, digest, key).every((c) => c.ok)) signed.push(layer);
      }
      const detail = `${signed.length} layer(s) signed by required key ${k + 1}`;
      checks.push({ name: `.sig by required key ${k + 1}`, ok: signed.length > 0, detail });
    }
}
