import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import type { TransparencyLogEntry } from '@sigstore/bundle';
import type { CosignRekorBundle, TransparencyEntry } from './transparency-log.ts';

/** What a logged entry must show to be ours: the payload's hash, and a signature our key verifies. */
export interface WantedEntry {
  /** lowercase hex SHA-256 of the DSSE payload bytes (the entry's spec.payloadHash) */
  payloadHash: string;
  /** PAE(payloadType, payload): what the signature was made over */
  message: Uint8Array;
  publicKey: KeyObject;
  /** crypto.verify digest of our key's scheme (algorithm.ts); null for Ed25519 */
  digest: string | null;
}

export type EntryVerdict = { signature: Uint8Array } | { rejected: string };

/**
 * Whether one Rekor v1 LogEntry value (`{body, integratedTime, logID, logIndex, verification}`) is a
 * `dsse` entry of our payload signed by our key. The body is Rekor's canonicalized entry
 * (sigstore/rekor pkg/types/dsse/v0.0.1/entry.go Canonicalize): `spec.payloadHash` is the SHA-256
 * of the payload, each `spec.signatures[]` holds the envelope's `signature` (base64) and the
 * `verifier` Rekor checked it with (base64 of a PEM public key or certificate). An entry is taken
 * only when a verifier holds our public key AND its signature verifies over PAE with it: the index
 * that found it matches on the payload hash alone, and anyone may log our payload with their key.
 * Pure; never throws.
 */
export function judgeEntry(value: unknown, want: WantedEntry): EntryVerdict {
  const body = decodeBody(value);
  if (!body) return { rejected: 'body is not base64 JSON' };
  if (body.kind !== 'dsse') return { rejected: `kind ${String(body.kind).slice(0, 40)}, not dsse` };
  const hash = body.spec?.payloadHash;
  if (
    hash?.algorithm !== 'sha256' ||
    typeof hash.value !== 'string' ||
    hash.value.toLowerCase() !== want.payloadHash
  )
    return { rejected: 'payloadHash is not our payload' };
  const ours = want.publicKey.export({ format: 'der', type: 'spki' });
  let sawOurKey = false;
  for (const s of Array.isArray(body.spec?.signatures) ? body.spec.signatures : []) {
    const key = verifierKey(s?.verifier);
    const isOurs = key?.export({ format: 'der', type: 'spki' }).equals(ours) ?? false;
    if (!isOurs || typeof s.signature !== 'string') continue;
    sawOurKey = true;
    const signature = new Uint8Array(Buffer.from(s.signature, 'base64'));
    if (verifies(want, signature)) return { signature };
  }
  return { rejected: sawOurKey ? 'signature does not verify with our key' : 'not signed by our key' };
}

/** The entry as TransparencyEntry (annotation URL, cosign bundle, Sigstore bundle form); throws on a malformed one. */
export function transparencyEntry(baseUrl: string, value: unknown): TransparencyEntry {
  const e = value as RawLogEntry;
  if (
    typeof e?.body !== 'string' ||
    !Number.isSafeInteger(e.logIndex) ||
    !Number.isSafeInteger(e.integratedTime) ||
    typeof e.logID !== 'string' ||
    !/^[0-9a-f]{64}$/i.test(e.logID)
  )
    throw new Error('malformed log entry');
  const body = decodeBody(value);
  const set = e.verification?.signedEntryTimestamp;
  const tlogEntry: TransparencyLogEntry = {
    logIndex: String(e.logIndex),
    logId: { keyId: Buffer.from(e.logID, 'hex') },
    integratedTime: String(e.integratedTime),
    kindVersion: { kind: String(body?.kind ?? ''), version: String(body?.apiVersion ?? '') },
    inclusionPromise:
      typeof set === 'string' ? { signedEntryTimestamp: Buffer.from(set, 'base64') } : undefined,
    inclusionProof: inclusionProof(e.verification?.inclusionProof),
    canonicalizedBody: Buffer.from(e.body, 'base64'),
  };
  return logEntryOf(baseUrl, tlogEntry);
}

/** TransparencyEntry from the Sigstore-bundle form of an entry (what RekorWitness returns, too). */
export function logEntryOf(baseUrl: string, entry: TransparencyLogEntry): TransparencyEntry {
  const logIndex = Number(entry.logIndex);
  return {
    url: `${baseUrl}/api/v1/log/entries?logIndex=${logIndex}`,
    logIndex,
    bundle: toCosignBundle(entry),
    tlogEntry: entry,
  };
}

function toCosignBundle(entry: TransparencyLogEntry): CosignRekorBundle {
  return {
    SignedEntryTimestamp: entry.inclusionPromise?.signedEntryTimestamp.toString('base64') ?? '',
    Payload: {
      body: entry.canonicalizedBody.toString('base64'),
      integratedTime: Number(entry.integratedTime),
      logIndex: Number(entry.logIndex),
      logID: entry.logId?.keyId.toString('hex') ?? '',
    },
  };
}

interface RawLogEntry {
  body?: unknown;
  logIndex?: number;
  integratedTime?: number;
  logID?: unknown;
  verification?: { signedEntryTimestamp?: unknown; inclusionProof?: RawInclusionProof };
}

/** openapi.yaml InclusionProof: hex hashes, a signed checkpoint note. */
interface RawInclusionProof {
  logIndex?: unknown;
  treeSize?: unknown;
  rootHash?: unknown;
  hashes?: unknown;
  checkpoint?: unknown;
}

/** The proof in Sigstore bundle form (as @sigstore/sign's RekorWitness builds it); undefined if absent or malformed. */
function inclusionProof(p: RawInclusionProof | undefined): TransparencyLogEntry['inclusionProof'] {
  const hex = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-f]*$/i.test(v);
  if (
    !p ||
    !Number.isSafeInteger(p.logIndex) ||
    !Number.isSafeInteger(p.treeSize) ||
    !hex(p.rootHash) ||
    !Array.isArray(p.hashes) ||
    !p.hashes.every(hex) ||
    typeof p.checkpoint !== 'string'
  )
    return undefined;
  return {
    logIndex: String(p.logIndex),
    treeSize: String(p.treeSize),
    rootHash: Buffer.from(p.rootHash, 'hex'),
    hashes: p.hashes.map((h) => Buffer.from(h, 'hex')),
    checkpoint: { envelope: p.checkpoint },
  };
}

interface DsseBody {
  kind?: unknown;
  apiVersion?: unknown;
  spec?: {
    payloadHash?: { algorithm?: unknown; value?: unknown };
    signatures?: { signature?: unknown; verifier?: unknown }[];
  };
}

function decodeBody(value: unknown): DsseBody | undefined {
  const body = (value as RawLogEntry | undefined)?.body;
  if (typeof body !== 'string') return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(body, 'base64').toString('utf8'));
    return parsed && typeof parsed === 'object' ? (parsed as DsseBody) : undefined;
  } catch {
    return undefined;
  }
}

/** The public key in a verifier (PEM public key or certificate, base64); undefined if it is neither. */
function verifierKey(verifier: unknown): KeyObject | undefined {
  if (typeof verifier !== 'string') return undefined;
  try {
    return createPublicKey(Buffer.from(verifier, 'base64').toString('utf8'));
  } catch {
    return undefined;
  }
}

function verifies(want: WantedEntry, signature: Uint8Array): boolean {
  try {
    return verify(want.digest, want.message, want.publicKey, signature);
  } catch {
    return false;
  }
}
