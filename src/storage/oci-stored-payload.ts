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
export type SignatureVerifier = (message: Uint8Array, signature: Uint8Array) => boolean | Promise<boolean>;

export interface StoredPayloadDeps {
  client: Pick<RegistryClient, 'getBlob' | 'getManifest'>;
  repository: string;
  verifies: SignatureVerifier;
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
  /** DSSE payloadType (attestations only) */
  payloadType?: string;
}

/** Blobs larger than this are not fetched to check them (they cannot count as stored). */
export const MAX_CHECKED_BLOB_BYTES = 16 * 1024 * 1024;

/**
 * The "already stored" decisions of OciBackend, after cosign's own duplicate detection
 * (sigstore/cosign pkg/cosign/remote/remote.go, NewDupeDetector: a layer counts as the new one
 * when its signature verifies over the new payload). An entry counts as our payload stored only
 * when it holds the same payload AND a signature over it verifies with a published key: the
 * ANNOTATION_PAYLOAD_DIGEST annotation only selects which entries to check (an entry naming
 * another payload is skipped without a fetch; one without the annotation, written before it
 * existed or by another tool, is checked by content). A planted entry with our payload digest and
 * a bogus signature is therefore not "stored", and we store ours beside it.
 */

/** The check for the cosign-layout layer of this artifact (`.att` or `.sig`). */
export function layerStoredAs(deps: StoredPayloadDeps, artifact: SignedArtifact): StoredAs {
  switch (artifact.type) {
    case 'provenance':
      return attestationStoredAs(deps, {
        payloadDigest: sha256Digest(artifact.payload),
        payloadType: artifact.envelope.payloadType,
      });
    case 'image-signature':
      return signatureStoredAs(deps, artifact.payload);
  }
}

/** `.att` layer: a DSSE envelope of the same payloadType and payload, validly signed. */
export function attestationStoredAs(deps: StoredPayloadDeps, want: PayloadIdentity): StoredAs {
  return async (entry, context) => {
    if (entry.mediaType !== DSSE_LAYER || !mayHold(entry, want)) return false;
    const bytes = await fetchBlob(deps, entry, context);
    return bytes !== undefined && envelopeHolds(parseJson(bytes), want, deps.verifies);
  };
}

/**
 * `.sig` layer: the layer digest is over the simplesigning payload itself, so the same digest is
 * the same payload; its signature annotation must verify over it. No registry read.
 */
export function signatureStoredAs(deps: Pick<StoredPayloadDeps, 'verifies'>, payload: Uint8Array): StoredAs {
  const digest = sha256Digest(payload);
  return async (entry) => {
    const b64 = entry.annotations?.[ANNOTATION_SIGNATURE];
    if (entry.mediaType !== SIMPLESIGNING_LAYER || entry.digest !== digest || !b64) return false;
    return safely(deps.verifies, payload, Buffer.from(b64, 'base64'));
  };
}

/** Sigstore-bundle referrer (an entry of the referrers index): its bundle's DSSE envelope holds the payload. */
export function bundleStoredAs(deps: StoredPayloadDeps, want: PayloadIdentity): StoredAs {
  return async (entry, context) => {
    if (entry.artifactType !== SIGSTORE_BUNDLE_V03 || !mayHold(entry, want)) return false;
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
    if (layer?.mediaType !== SIGSTORE_BUNDLE_V03) return false;
    const bytes = await fetchBlob(deps, layer, context);
    const bundle = bytes && (parseJson(bytes) as { dsseEnvelope?: unknown } | undefined);
    return bundle !== undefined && envelopeHolds(bundle.dsseEnvelope, want, deps.verifies);
  };
}

/** False only when the entry's annotation names another payload. */
function mayHold(entry: Descriptor, want: PayloadIdentity): boolean {
  const named = entry.annotations?.[ANNOTATION_PAYLOAD_DIGEST];
  return named === undefined || named === want.payloadDigest;
}

/** A DSSE envelope (parsed JSON) with our payloadType and payload and a signature that verifies. */
async function envelopeHolds(value: unknown, want: PayloadIdentity, verifies: SignatureVerifier) {
  const env = value as { payloadType?: unknown; payload?: unknown; signatures?: unknown } | undefined;
  const type = want.payloadType;
  if (!env || type === undefined || env.payloadType !== type || typeof env.payload !== 'string') return false;
  const payload = Buffer.from(env.payload, 'base64');
  if (sha256Digest(payload) !== want.payloadDigest || !Array.isArray(env.signatures)) return false;
  const message = pae(type, payload);
  for (const s of env.signatures as { sig?: unknown }[]) {
    if (typeof s?.sig === 'string' && (await safely(verifies, message, Buffer.from(s.sig, 'base64'))))
      return true;
  }
  return false;
}

/** A verifier that throws (a malformed signature) has not verified. */
async function safely(verifies: SignatureVerifier, message: Uint8Array, signature: Uint8Array) {
  try {
    return (await verifies(message, signature)) === true;
  } catch {
    return false;
  }
}

/** The blob, checked against its digest; undefined when it is too large, absent or not what it claims. */
async function fetchBlob(
  deps: StoredPayloadDeps,
  d: Descriptor,
  context: AttemptContext | undefined,
): Promise<Uint8Array | undefined> {
  if (!(d.size > 0 && d.size <= MAX_CHECKED_BLOB_BYTES)) return undefined;
  const bytes = await deps.client
    .getBlob(deps.repository, d.digest, undefined, context)
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

function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return undefined;
  }
}
