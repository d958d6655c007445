import { base64ToBytes, concatBytes, utf8 } from './bytes.ts';

/** A DSSE envelope as the API serves it (https://github.com/secure-systems-lab/dsse/blob/master/envelope.md). */
export interface Envelope {
  payloadType: string;
  payload: string;
  signatures: { keyid?: string; sig: string }[];
}

/**
 * DSSE v1 pre-authentication encoding: `DSSEv1 SP len(type) SP type SP len(body) SP body`, lengths
 * as ASCII decimal byte counts. This, not the payload, is what the signature covers.
 */
export function preAuthEncoding(payloadType: string, body: Uint8Array): Uint8Array<ArrayBuffer> {
  const type = utf8(payloadType);
  return concatBytes([utf8(`DSSEv1 ${type.length} `), type, utf8(` ${body.length} `), body]);
}

/** Checks the shape of an untrusted envelope; throws naming the field that is wrong. */
export function parseEnvelope(text: string): Envelope {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error('the envelope is not JSON');
  }
  const e = value as Partial<Envelope>;
  if (typeof e?.payloadType !== 'string') throw new Error('the envelope has no payloadType');
  if (typeof e.payload !== 'string') throw new Error('the envelope has no payload');
  if (!Array.isArray(e.signatures) || e.signatures.length === 0)
    throw new Error('the envelope has no signatures');
  for (const s of e.signatures)
    if (typeof s?.sig !== 'string') throw new Error('a signature of the envelope has no sig');
  return e as Envelope;
}

/** The payload bytes; throws when it is not base64. */
export function payloadBytes(envelope: Envelope): Uint8Array<ArrayBuffer> {
  try {
    return base64ToBytes(envelope.payload);
  } catch {
    throw new Error('the envelope payload is not base64');
  }
}
