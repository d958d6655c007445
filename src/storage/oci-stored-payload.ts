import { ObserverError } from '../errors.ts';
import type { AttemptContext } from '../model/index.ts';
import {
  ANNOTATION_PAYLOAD_DIGEST,
  ANNOTATION_SIGNATURE,
  type Descriptor,
  DSSE_LAYER,
  parseImageManifest,
  type RegistryClient,
  SIGSTORE_BUNDLE_V03,
  SIMPLESIGNING_LAYER,
  sha256Digest,
} from '../oci/index.ts';
import { pae } from '../signing/index.ts';
import type { SignedArtifact } from './backend.ts';

/**
 * Whether `signature` over `message` verifies with a key the observer publishes (the current and
 * the retired public keys). `message` is exactly the bytes signed: PAE(payloadType, payload) for a
 * DSSE envelope, the simplesigning payload for a `.sig` layer.
 */
export type SignatureVerifier = (
  message: Uint8Array,
  signature: Uint8Array,
  /** whose keys: a tenant key set's name (`signing.tenant-keys`); unset = the platform's keys */
  signedBy?: string,
) => boolean | Promise<boolean>;

/** Why an entry at a tag was left alone: reported once per layer (log and metric). */
export type ForeignLayerReason = 'unannotated' | 'oversized' | 'not_an_envelope';

export interface StoredPayloadDeps {
  client: Pick<RegistryClient, 'getBlob' | 'getManifest'>;
  repository: string;
  verifies: SignatureVerifier;
  /** told about an entry of our media type that is not ours to read (once per layer digest: reportOnce) */
  report?: (entry: Descriptor, reason: ForeignLayerReason) => void;
}

/**
 * Whether an entry at a tag holds what we are about to store; `context` is the attempt (or batch)
 * asking, whose deadline aborts the reads.
 */
export type StoredAs = (entry: Descriptor, context?: AttemptContext) => Promise<boolean>;

/** What we are about to store, by content: the payload, not the envelope, is the identity. */
export interface PayloadIdentity {
  /** `sha256:<hex>` of the payload bytes */
  payloadDigest: string;
  /** the payload's length: an envelope of it is never larger than ownEnvelopeBound(payloadBytes) */
  payloadBytes: number;
  /** DSSE payloadType (attestations only) */
  payloadType?: string;
  /**
   * Another writer's layers count too (Tekton Chains' carry no payload-digest annotation): read
   * when their size fits an envelope of this payload. For adoption only; our own stores keep to
   * annotated layers.
   */
  foreignWriter?: true;
  /**
   * The tenant whose signature the envelope must carry too: the entry counts only when a signature
   * verifies with the platform's keys AND one with this tenant's (an envelope of the same payload
   * with the platform signature alone is not this one stored).
   */
  tenant?: string;
}

/** Blobs larger than this are never fetched to check them, whatever the payload (they cannot count as stored). */
export const MAX_CHECKED_BLOB_BYTES = 16 * 1024 * 1024;
/** What an envelope (or bundle) adds to its base64 payload: payloadType, signatures, certificates, tlog entries. */
export const ENVELOPE_OVERHEAD_BYTES = 64 * 1024;
/**
 * Objects and arrays an envelope or bundle of ours holds at most (a DSSE envelope has 2 plus one per
 * signature; a bundle a few dozen). A blob with more is not ours: it is never handed to JSON.parse,
 * whose object graph for `[[],[],…]` is ~10 times its bytes (a 16 MiB layer is over 150 MiB of heap).
 */
export const MAX_ENVELOPE_CONTAINERS = 256;

/** The largest entry that can hold an envelope of a payload of `payloadBytes`: base64 plus the overhead. */
export function ownEnvelopeBound(payloadBytes: number): number {
  return Math.min(MAX_CHECKED_BLOB_BYTES, Math.ceil(payloadBytes / 3) * 4 + ENVELOPE_OVERHEAD_BYTES);
}

/**
 * The "already stored" decisions of OciBackend, after cosign's own duplicate detection
 * (sigstore/cosign pkg/cosign/remote/remote.go, NewDupeDetector: a layer counts as the new one
 * when its signature verifies over the new payload). Only entries identified as ours are read:
 * our media type, the ANNOTATION_PAYLOAD_DIGEST annotation naming the payload we are about to
 * store (an entry naming another payload is skipped without a fetch), and a size no larger than an
 * envelope of that payload can be (ownEnvelopeBound). An entry without the annotation (another
 * tool's, or planted) or over the bound is left alone, unread, and reported once; a fetched blob
 * must match its digest and have the few containers an envelope has (MAX_ENVELOPE_CONTAINERS)
 * before it is parsed. An entry then counts as our payload stored only when its payload's digest is
 * the one we are about to store AND a signature over it verifies with a published key, so a
 * planted entry with our payload digest and a bogus signature is not "stored": we store ours beside it.
 */

/** The check for the cosign-layout layer of this artifact (`.att` or `.sig`). */
export function layerStoredAs(deps: StoredPayloadDeps, artifact: SignedArtifact): StoredAs {
  switch (artifact.type) {
    case 'provenance':
      return attestationStoredAs(deps, {
        payloadDigest: sha256Digest(artifact.payload),
        payloadBytes: artifact.payload.length,
        payloadType: artifact.envelope.payloadType,
        ...(artifact.tenant ? { tenant: artifact.tenant } : {}),
      });
    case 'image-signature':
      return signatureStoredAs(deps, artifact.payload, artifact.signedBy);
  }
}

/** `.att` layer: a DSSE envelope of the same payloadType and payload, validly signed. */
export function attestationStoredAs(deps: StoredPayloadDeps, want: PayloadIdentity): StoredAs {
  return async (entry, context) => {
    if (entry.mediaType !== DSSE_LAYER || !isOurs(deps, entry, want, entry)) return false;
    const bytes = await fetchBlob(deps, entry, context);
    return bytes !== undefined && envelopeHolds(parseSmallJson(deps, entry, bytes), want, deps.verifies);
  };
}

/**
 * `.sig` layer: the layer digest is over the simplesigning payload itself, so the same digest is
 * the same payload; its signature annotation must verify over it with the keys of `signedBy` (a
 * tenant; unset = the platform), so the platform's layer never stands for the tenant's, nor the
 * reverse: each key's layer is stored exactly once. No registry read.
 */
export function signatureStoredAs(
  deps: Pick<StoredPayloadDeps, 'verifies'>,
  payload: Uint8Array,
  signedBy?: string,
): StoredAs {
  const digest = sha256Digest(payload);
  return async (entry) => {
    const b64 = entry.annotations?.[ANNOTATION_SIGNATURE];
    if (entry.mediaType !== SIMPLESIGNING_LAYER || entry.digest !== digest || !b64) return false;
    return safely(deps.verifies, payload, Buffer.from(b64, 'base64'), signedBy);
  };
}

/** Sigstore-bundle referrer (an entry of the referrers index): its bundle's DSSE envelope holds the payload. */
export function bundleStoredAs(deps: StoredPayloadDeps, want: PayloadIdentity): StoredAs {
  return async (entry, context) => {
    if (entry.artifactType !== SIGSTORE_BUNDLE_V03 || !isOurs(deps, entry, want)) return false;
    // a referrer manifest of ours is a few hundred bytes: a larger one is not read
    if (!(entry.size > 0 && entry.size <= ENVELOPE_OVERHEAD_BYTES)) {
      deps.report?.(entry, 'oversized');
      return false;
    }
    const manifest = await deps.client
      .getManifest(deps.repository, entry.digest, context)
      .catch(notFoundAsUndefined);
    if (!manifest) return false;
    let layer: Descriptor | undefined;
    try {
      layer = parseImageManifest(manifest.bytes, `referrer ${entry.digest}`).layers[0];
    } catch {
      return false;
    }
    if (layer?.mediaType !== SIGSTORE_BUNDLE_V03 || !isOurs(deps, entry, want, layer)) return false;
    const bytes = await fetchBlob(deps, layer, context);
    const bundle = bytes && (parseSmallJson(deps, layer, bytes) as { dsseEnvelope?: unknown } | undefined);
    return bundle !== undefined && envelopeHolds(bundle.dsseEnvelope, want, deps.verifies);
  };
}

/**
 * Whether `entry` (whose annotations name the payload) may hold ours and `blob` (the entry itself, or
 * a bundle's layer) is small enough to be an envelope of it. An entry naming another payload is
 * simply another of our statements; one without the annotation, or too large, is reported.
 */
function isOurs(deps: StoredPayloadDeps, entry: Descriptor, want: PayloadIdentity, blob?: Descriptor) {
  const named = entry.annotations?.[ANNOTATION_PAYLOAD_DIGEST];
  if (named === undefined && !want.foreignWriter) {
    deps.report?.(entry, 'unannotated');
    return false;
  }
  if (named !== undefined && named !== want.payloadDigest) return false;
  if (blob && !(blob.size > 0 && blob.size <= ownEnvelopeBound(want.payloadBytes))) {
    deps.report?.(blob, 'oversized');
    return false;
  }
  return true;
}

/** A DSSE envelope (parsed JSON) with our payloadType and payload and a signature that verifies. */
async function envelopeHolds(value: unknown, want: PayloadIdentity, verifies: SignatureVerifier) {
  const env = value as { payloadType?: unknown; payload?: unknown; signatures?: unknown } | undefined;
  const type = want.payloadType;
  if (!env || type === undefined || env.payloadType !== type || typeof env.payload !== 'string') return false;
  const payload = Buffer.from(env.payload, 'base64');
  if (sha256Digest(payload) !== want.payloadDigest || !Array.isArray(env.signatures)) return false;
  const message = pae(type, payload);
  const sigs = (env.signatures as { sig?: unknown }[])
    .map((s) => s?.sig)
    .filter((sig): sig is string => typeof sig === 'string')
    .map((sig) => Buffer.from(sig, 'base64'));
  for (const signedBy of want.tenant ? [undefined, want.tenant] : [undefined]) {
    let found = false;
    for (const sig of sigs) if (!found) found = await safely(verifies, message, sig, signedBy);
    if (!found) return false;
  }
  return true;
}

/** A verifier that throws (a malformed signature) has not verified. */
async function safely(
  verifies: SignatureVerifier,
  message: Uint8Array,
  signature: Uint8Array,
  signedBy?: string,
) {
  try {
    return (
      (await (signedBy === undefined
        ? verifies(message, signature)
        : verifies(message, signature, signedBy))) === true
    );
  } catch {
    return false;
  }
}

/** The blob (at most its descriptor's size), checked against its digest; undefined when it is too large, absent or not what it claims. */
async function fetchBlob(
  deps: StoredPayloadDeps,
  d: Descriptor,
  context: AttemptContext | undefined,
): Promise<Uint8Array | undefined> {
  if (!(d.size > 0 && d.size <= MAX_CHECKED_BLOB_BYTES)) return undefined;
  const bytes = await deps.client
    // read no more than the descriptor says: that is also what the read reserves of the memory budget
    .getBlob(deps.repository, d.digest, d.size, context)
    .catch(notFoundAsUndefined);
  return bytes && bytes.length <= MAX_CHECKED_BLOB_BYTES && sha256Digest(bytes) === d.digest
    ? bytes
    : undefined;
}

/** A retryable registry error retries the append; anything else (404, denied) means "not this entry". */
function notFoundAsUndefined(err: unknown): undefined {
  if (err instanceof ObserverError && err.retryable) throw err;
  return undefined;
}

/** The blob as JSON when it has no more containers than an envelope of ours; undefined (reported) otherwise. */
function parseSmallJson(deps: StoredPayloadDeps, d: Descriptor, bytes: Uint8Array): unknown {
  if (containersOver(bytes, MAX_ENVELOPE_CONTAINERS)) {
    deps.report?.(d, 'not_an_envelope');
    return undefined;
  }
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    deps.report?.(d, 'not_an_envelope');
    return undefined;
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;

/** Whether the JSON text opens more than `max` objects or arrays (outside strings); one pass, no allocation. */
export function containersOver(bytes: Uint8Array, max: number): boolean {
  let inString = false;
  let opened = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (inString) {
      if (b === BACKSLASH) i++;
      else if (b === QUOTE) inString = false;
    } else if (b === QUOTE) inString = true;
    else if ((b === OPEN_BRACE || b === OPEN_BRACKET) && ++opened > max) return true;
  }
  return false;
}
