import type { DsseEnvelope, SignatureResult, Signer } from './signer.ts';

/**
 * DSSE v1 pre-authentication encoding: "DSSEv1" SP len(type) SP type SP len(body) SP body, lengths
 * in decimal bytes. https://github.com/secure-systems-lab/dsse/blob/master/protocol.md
 */
export function pae(payloadType: string, body: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `, 'ascii'),
    type,
    Buffer.from(` ${body.length} `, 'ascii'),
    body,
  ]);
}

export interface SignedEnvelope {
  envelope: DsseEnvelope;
  /** the envelope JSON, serialised once: store exactly these bytes (the cosign .att layer) */
  envelopeBytes: Uint8Array;
  signature: SignatureResult;
}

/**
 * Signs `payload` as a one-signature DSSE envelope. keyid is Chains' SSH fingerprint of the
 * key that made the signature (the per-signature one for keyless). Key order is fixed (payloadType, payload,
 * signatures; keyid, sig) so the same signature gives the same bytes.
 * Throws whatever the signer throws (callers wrap it as 'signing').
 */
export async function signEnvelope(
  payload: Uint8Array,
  payloadType: string,
  signer: Signer,
): Promise<SignedEnvelope> {
  const signature = await signer.sign(pae(payloadType, payload));
  return { ...envelopeOf(payload, payloadType, signature.keyId, signature.signature), signature };
}

/**
 * Signs `payload` once per signer, all over the same PAE, as one DSSE envelope whose signatures
 * are in the signers' order, each with its keyid (DSSE allows any number; a verifier accepts the
 * envelope when the signatures of the keys it requires verify). `signature` is the first signer's.
 * One signer gives exactly signEnvelope's bytes.
 */
export async function signEnvelopeBy(
  payload: Uint8Array,
  payloadType: string,
  signers: readonly Signer[],
): Promise<SignedEnvelope & { signatures: SignatureResult[] }> {
  const message = pae(payloadType, payload);
  const signatures: SignatureResult[] = [];
  for (const signer of signers) signatures.push(await signer.sign(message));
  const [first] = signatures;
  if (!first) throw new Error('signEnvelopeBy: no signer');
  const envelope: DsseEnvelope = {
    payloadType,
    payload: Buffer.from(payload).toString('base64'),
    signatures: signatures.map((s) => ({ keyid: s.keyId, sig: Buffer.from(s.signature).toString('base64') })),
  };
  const envelopeBytes = Buffer.from(JSON.stringify(envelope), 'utf8');
  return { envelope, envelopeBytes, signature: first, signatures };
}

/**
 * The one-signature envelope around a signature made earlier (one logged in Rekor), byte for byte
 * what signEnvelope made when it signed: the same key order, the same keyid.
 */
export function envelopeOf(
  payload: Uint8Array,
  payloadType: string,
  keyId: string,
  signature: Uint8Array,
): Omit<SignedEnvelope, 'signature'> {
  const envelope: DsseEnvelope = {
    payloadType,
    payload: Buffer.from(payload).toString('base64'),
    signatures: [{ keyid: keyId, sig: Buffer.from(signature).toString('base64') }],
  };
  return { envelope, envelopeBytes: Buffer.from(JSON.stringify(envelope), 'utf8') };
}

/** simplesigning (.sig): a plain signature over the payload bytes, no PAE. */
export function signRaw(payload: Uint8Array, signer: Signer): Promise<SignatureResult> {
  return signer.sign(payload);
}
