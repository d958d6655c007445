import { X509Certificate } from 'node:crypto';
import { bundleFromJSON } from '@sigstore/bundle';
import { mockFulcio, mockRekor } from '@sigstore/mock';
import { toSignedEntity } from '@sigstore/verify';
import nock from 'nock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  keyIdOf,
  shouldUpload,
  signEnvelope,
  signRaw,
  toSigstoreBundle,
} from '../../../src/signing/index.ts';
import { KeylessSigner } from '../../../src/signing/sigstore/keyless-signer.ts';
import { RekorTransparencyLog } from '../../../src/signing/sigstore/rekor-transparency-log.ts';
import { verifyEnvelope } from '../../../src/verify/envelope.ts';

const FULCIO = 'https://fulcio.test';
const REKOR = 'https://rekor.test';
const TYPE = 'application/vnd.in-toto+json';
// An unsigned JWT with the claims mockFulcio reads (iss, sub, email); throwaway.
const b64u = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
const JWT = `${b64u({ alg: 'none' })}.${b64u({ iss: 'https://issuer.test', sub: 'builder@example.com', email: 'builder@example.com', email_verified: true, aud: 'sigstore' })}.sig`;

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());

describe('KeylessSigner (mock Fulcio)', () => {
  it('signs with a fresh certified ephemeral key each time, reading the token each time', async () => {
    await mockFulcio({ baseURL: FULCIO });
    await mockFulcio({ baseURL: FULCIO });
    let reads = 0;
    const signer = new KeylessSigner({
      fulcioUrl: FULCIO,
      identityToken: async () => {
        reads++;
        return JWT;
      },
    });
    const first = await signEnvelope(Buffer.from('{}'), TYPE, signer);
    const second = await signEnvelope(Buffer.from('{}'), TYPE, signer);
    expect(reads).toBe(2);
    const cert = new X509Certificate(first.signature.certificatePem ?? '');
    expect(first.signature.keyId).toBe(keyIdOf(cert.publicKey));
    expect(first.envelope.signatures[0]?.keyid).toBe(first.signature.keyId);
    expect(second.signature.keyId).not.toBe(first.signature.keyId);
    // no "last signature's key" on the signer: concurrent runs would read each other's
    expect(signer.keyId).toBe('');
    expect(signer.publicKeyPem).toBe('');
    expect(verifyEnvelope(first.envelope, cert.publicKey).ok).toBe(true);
  });

  it('fails as a retryable signing error without leaking the token', async () => {
    nock(FULCIO).post('/api/v2/signingCert').reply(500, 'boom');
    const signer = new KeylessSigner({
      fulcioUrl: FULCIO,
      identityToken: async () => 'not-a-jwt-secret',
      retry: 0,
    });
    const err = await signer.sign(Buffer.from('x')).then(
      () => new Error('expected a rejection'),
      (e: unknown) => e as Error,
    );
    expect(err).toMatchObject({ code: 'signing', retryable: true });
    expect(err.message).toMatch(/^keyless signing with Fulcio https:\/\/fulcio.test: [A-Z_]+$/);
    expect(err.message).not.toContain('not-a-jwt-secret');
  });
});

describe('RekorTransparencyLog (mock Rekor)', () => {
  it('uploads a dsse entry and returns the annotation URL, cosign bundle and a v0.3 bundle entry', async () => {
    await mockFulcio({ baseURL: FULCIO });
    await mockRekor({ baseURL: REKOR });
    const signer = new KeylessSigner({ fulcioUrl: FULCIO, identityToken: async () => JWT });
    const { envelope, signature } = await signEnvelope(Buffer.from('{"a":1}'), TYPE, signer);
    const entry = await new RekorTransparencyLog({ url: `${REKOR}/` }).uploadEnvelope(
      envelope,
      signature,
      signer.publicKeyPem,
    );
    expect(entry.url).toBe(`${REKOR}/api/v1/log/entries?logIndex=${entry.logIndex}`);
    expect(Number.isInteger(entry.logIndex)).toBe(true);
    const body = JSON.parse(Buffer.from(entry.bundle.Payload.body, 'base64').toString('utf8'));
    expect(body).toMatchObject({ kind: 'dsse', apiVersion: '0.0.1' });
    expect(entry.bundle.SignedEntryTimestamp).not.toBe('');
    expect(entry.bundle.Payload.logID).toMatch(/^[0-9a-f]{64}$/);

    const bundle = toSigstoreBundle(envelope, {
      signature,
      keyId: signature.keyId ?? '',
      tlogEntry: entry.tlogEntry,
    });
    expect(bundle.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    expect(bundle.verificationMaterial.tlogEntries).toHaveLength(1);
    expect(toSignedEntity(bundleFromJSON(bundle)).tlogEntries).toHaveLength(1);
  });

  it('uploads a hashedrekord entry for a simplesigning signature', async () => {
    await mockFulcio({ baseURL: FULCIO });
    await mockRekor({ baseURL: REKOR });
    const signer = new KeylessSigner({ fulcioUrl: FULCIO, identityToken: async () => JWT });
    const payload = Buffer.from('{"critical":{}}');
    const signature = await signRaw(payload, signer);
    const entry = await new RekorTransparencyLog({ url: REKOR }).uploadSignature(
      payload,
      signature,
      signer.publicKeyPem,
    );
    const body = JSON.parse(Buffer.from(entry.bundle.Payload.body, 'base64').toString('utf8'));
    expect(body).toMatchObject({ kind: 'hashedrekord' });
  });

  it('fails as a retryable tlog error naming the log', async () => {
    nock(REKOR).post('/api/v1/log/entries').reply(500, 'down');
    const log = new RekorTransparencyLog({ url: REKOR, retry: 0 });
    const env = { payloadType: TYPE, payload: 'e30=', signatures: [{ keyid: '', sig: 'AA==' }] };
    await expect(log.uploadEnvelope(env, { signature: new Uint8Array([0]) }, '')).rejects.toMatchObject({
      code: 'tlog',
      retryable: true,
      message: expect.stringContaining(`uploading to transparency log ${REKOR}`),
    });
  });
});

describe('shouldUpload', () => {
  it("follows Chains' transparency.enabled modes", () => {
    const ask = { 'chains.tekton.dev/transparency-upload': 'true' };
    expect(shouldUpload('on', undefined)).toBe(true);
    expect(shouldUpload('off', ask)).toBe(false);
    expect(shouldUpload('manual', {})).toBe(false);
    expect(shouldUpload('manual', ask)).toBe(true);
    expect(shouldUpload('manual', { ...ask, 'chains.tekton.dev/transparency': 'https://rekor/x' })).toBe(
      false,
    );
  });
});
