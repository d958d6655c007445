import { verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  KeySigner,
  pae,
  type SignatureResult,
  type Signer,
  signEnvelope,
  signRaw,
} from '../../../src/signing/index.ts';
import { verifyEnvelope } from '../../../src/verify/envelope.ts';
import { generateKey, KEY_KINDS } from './keys.ts';
import { algorithmFor } from './signers.ts';

const TYPE = 'application/vnd.in-toto+json';
const statement = Buffer.from(
  '{"_type":"https://in-toto.io/Statement/v1","subject":[],"predicateType":"x","predicate":{}}',
);

describe('pae', () => {
  it('matches the DSSE spec example', () => {
    const bytes = pae('http://example.com/HelloWorld', Buffer.from('hello world'));
    expect(bytes.toString('utf8')).toBe('DSSEv1 29 http://example.com/HelloWorld 11 hello world');
  });

  it('counts bytes, not characters', () => {
    expect(pae('t', Buffer.from('é')).toString('utf8')).toBe('DSSEv1 1 t 2 é');
  });
});

describe('signEnvelope + verifyEnvelope', () => {
  for (const kind of KEY_KINDS) {
    it(`signs and verifies with ${kind}`, async () => {
      const { privateKey, publicKey } = generateKey(kind);
      const signer = new KeySigner({ privateKey, algorithm: algorithmFor(kind) });
      const { envelope, envelopeBytes } = await signEnvelope(statement, TYPE, signer);
      expect(Object.keys(envelope)).toEqual(['payloadType', 'payload', 'signatures']);
      expect(envelope.signatures[0]?.keyid).toBe(signer.keyId);
      expect(JSON.parse(Buffer.from(envelopeBytes).toString('utf8'))).toEqual(envelope);
      expect(verifyEnvelope(envelopeBytes, publicKey)).toEqual({ ok: true, keyId: signer.keyId });
      expect(verifyEnvelope(envelope, signer.publicKeyPem).ok).toBe(true);

      const tampered = { ...envelope, payload: Buffer.from(`${statement} `).toString('base64') };
      expect(verifyEnvelope(tampered, publicKey).ok).toBe(false);
      expect(verifyEnvelope({ ...envelope, payloadType: 'application/json' }, publicKey).ok).toBe(false);
      expect(verifyEnvelope(envelope, generateKey(kind).publicKey).ok).toBe(false);
    });
  }

  it('uses the per-signature key id a keyless signer reports', async () => {
    const fake = {
      keyId: 'SHA256:stale',
      algorithm: 'ecdsa-p256-sha256',
      publicKeyPem: '',
      sign: async (): Promise<SignatureResult> => ({
        signature: new Uint8Array([1, 2]),
        keyId: 'SHA256:fresh',
        publicKeyPem: '',
      }),
    } satisfies Signer;
    const { envelope } = await signEnvelope(statement, TYPE, fake);
    expect(envelope.signatures).toEqual([{ keyid: 'SHA256:fresh', sig: 'AQI=' }]);
  });

  it('rejects malformed envelopes with a reason', () => {
    const { publicKey } = generateKey('p256');
    expect(verifyEnvelope('not json', publicKey)).toEqual({ ok: false, reason: 'envelope is not JSON' });
    expect(verifyEnvelope({ payloadType: TYPE, payload: 'e30=', signatures: [] }, publicKey).ok).toBe(false);
    expect(
      verifyEnvelope({ payloadType: TYPE, payload: '%%%', signatures: [{ sig: 'AA==' }] }, publicKey).ok,
    ).toBe(false);
  });
});

describe('signRaw', () => {
  it('signs the payload bytes themselves (simplesigning)', async () => {
    const { privateKey, publicKey } = generateKey('p256');
    const signer = new KeySigner({ privateKey, algorithm: 'ecdsa-p256-sha256' });
    const { signature } = await signRaw(statement, signer);
    expect(verify('sha256', statement, publicKey, signature)).toBe(true);
    expect(verify('sha256', pae(TYPE, statement), publicKey, signature)).toBe(false);
  });
});
