import { base64ToBytes } from './bytes.ts';
import { type Envelope, parseEnvelope, payloadBytes, preAuthEncoding } from './dsse.ts';
import { importPublishedKey, type PublishedKey, type VerifyingKey, verifiesWith } from './public-key.ts';

export interface SignatureCheck {
  /** the keyid the envelope names (may be empty) */
  keyid: string;
  /** the published key that verified it */
  verifiedBy?: PublishedKey;
  /** why it did not verify */
  problem?: string;
}

export type EnvelopeVerdict =
  | {
      verified: true;
      key: PublishedKey;
      envelope: Envelope;
      signatures: SignatureCheck[];
      payload: Uint8Array;
    }
  | {
      verified: false;
      reason: string;
      envelope?: Envelope;
      signatures: SignatureCheck[];
      payload?: Uint8Array;
    };

/**
 * Checks a DSSE envelope against the published keys, here, with WebCrypto. Verified when at least
 * one signature verifies under a published key whose key id, recomputed from the key's bytes,
 * is the one it is published under. A signature naming a keyid is tried against that key only;
 * one naming none, against every key. Never throws: every failure becomes a reason.
 */
export async function verifyEnvelope(
  envelopeText: string,
  published: readonly PublishedKey[],
): Promise<EnvelopeVerdict> {
  let envelope: Envelope;
  let payload: Uint8Array<ArrayBuffer>;
  try {
    envelope = parseEnvelope(envelopeText);
    payload = payloadBytes(envelope);
  } catch (err) {
    return { verified: false, reason: (err as Error).message, signatures: [] };
  }
  const keys = await importKeys(published);
  const message = preAuthEncoding(envelope.payloadType, payload);
  const signatures: SignatureCheck[] = [];
  for (const s of envelope.signatures) signatures.push(await checkSignature(s, keys, message));
  const good = signatures.find((s) => s.verifiedBy);
  if (good?.verifiedBy) return { verified: true, key: good.verifiedBy, envelope, signatures, payload };
  const reason =
    keys.length === 0 ? 'no published key could be used' : signatures.map((s) => s.problem).join('; ');
  return { verified: false, reason, envelope, signatures, payload };
}

async function importKeys(published: readonly PublishedKey[]): Promise<VerifyingKey[]> {
  const keys: VerifyingKey[] = [];
  for (const k of published) {
    try {
      const key = await importPublishedKey(k);
      if (key.computedKeyId === k.keyId) keys.push(key);
    } catch {
      // a key this browser cannot import verifies nothing; others still may
    }
  }
  return keys;
}

async function checkSignature(
  s: Envelope['signatures'][number],
  keys: readonly VerifyingKey[],
  message: Uint8Array<ArrayBuffer>,
): Promise<SignatureCheck> {
  const keyid = s.keyid ?? '';
  const candidates = keyid ? keys.filter((k) => k.published.keyId === keyid) : keys;
  if (candidates.length === 0)
    return { keyid, problem: `signature by ${keyid || 'an unnamed key'}: no published key has this key id` };
  let sig: Uint8Array<ArrayBuffer>;
  try {
    sig = base64ToBytes(s.sig);
  } catch {
    return { keyid, problem: `signature by ${keyid}: not base64` };
  }
  for (const k of candidates) {
    try {
      if (await verifiesWith(k, message, sig)) return { keyid, verifiedBy: k.published };
    } catch {
      // a malformed signature for this scheme: does not verify
    }
  }
  return {
    keyid,
    problem: `signature by ${keyid || 'an unnamed key'} does not verify: the envelope was changed after signing, or signed by another key`,
  };
}
