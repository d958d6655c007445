import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
} from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pae } from '../../../src/signing/index.ts';
import {
  judgeEntry,
  transparencyEntry,
  type WantedEntry,
} from '../../../src/signing/sigstore/rekor-entry.ts';
import { writeTestCert } from '../../helpers/tls-cert.ts';

const TYPE = 'application/vnd.in-toto+json';
const payload = Buffer.from('{"_type":"https://in-toto.io/Statement/v1"}');
const ours = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const theirs = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const hex = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const pem = (k: KeyObject) => k.export({ format: 'pem', type: 'spki' }).toString();
const want: WantedEntry = {
  payloadHash: hex(payload),
  message: pae(TYPE, payload),
  publicKey: ours.publicKey,
  digest: 'sha256',
};

/** A LogEntry value whose body is a dsse entry as Rekor canonicalizes it. */
function entry(
  options: {
    kind?: string;
    payloadHash?: string;
    signer?: KeyObject;
    verifier?: string;
    signed?: Buffer;
  } = {},
) {
  const sig = sign('sha256', options.signed ?? pae(TYPE, payload), options.signer ?? ours.privateKey);
  const body = {
    apiVersion: '0.0.1',
    kind: options.kind ?? 'dsse',
    spec: {
      envelopeHash: { algorithm: 'sha256', value: 'e'.repeat(64) },
      payloadHash: { algorithm: 'sha256', value: options.payloadHash ?? hex(payload) },
      signatures: [
        {
          signature: sig.toString('base64'),
          verifier: Buffer.from(options.verifier ?? pem(ours.publicKey)).toString('base64'),
        },
      ],
    },
  };
  return {
    body: Buffer.from(JSON.stringify(body)).toString('base64'),
    integratedTime: 1_700_000_000,
    logID: 'a'.repeat(64),
    logIndex: 42,
    verification: { signedEntryTimestamp: Buffer.from('set').toString('base64') },
  };
}

describe('judgeEntry', () => {
  it('accepts a dsse entry of our payload whose signature our key verifies, and returns that signature', () => {
    const e = entry();
    const verdict = judgeEntry(e, want);
    expect(verdict).toHaveProperty('signature');
    const logged = JSON.parse(Buffer.from(e.body, 'base64').toString()).spec.signatures[0].signature;
    expect('signature' in verdict && Buffer.from(verdict.signature).toString('base64')).toBe(logged);
  });

  it('accepts our key logged as a certificate (x509.pem with a certificate: the verifier is the certificate)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rekor-entry-'));
    const cert = writeTestCert(dir);
    const key = createPrivateKey(readFileSync(cert.keyFile));
    rmSync(dir, { recursive: true });
    const certified = { ...want, publicKey: createPublicKey(key) };
    expect(judgeEntry(entry({ signer: key, verifier: cert.certPem }), certified)).toHaveProperty('signature');
    expect(judgeEntry(entry({ signer: key, verifier: cert.certPem }), want)).toEqual({
      rejected: 'not signed by our key',
    });
  });

  it('rejects an entry of another payload', () => {
    expect(judgeEntry(entry({ payloadHash: 'f'.repeat(64) }), want)).toEqual({
      rejected: 'payloadHash is not our payload',
    });
  });

  it('rejects our payload logged with another key (anyone may log it)', () => {
    const foreign = entry({ signer: theirs.privateKey, verifier: pem(theirs.publicKey) });
    expect(judgeEntry(foreign, want)).toEqual({ rejected: 'not signed by our key' });
  });

  it('rejects our key named as verifier of a signature it did not make', () => {
    const forged = entry({ signer: theirs.privateKey });
    expect(judgeEntry(forged, want)).toEqual({ rejected: 'signature does not verify with our key' });
    const otherMessage = entry({ signed: pae(TYPE, Buffer.from('{}')) });
    expect(judgeEntry(otherMessage, want)).toEqual({ rejected: 'signature does not verify with our key' });
  });

  it('rejects other entry kinds and malformed bodies', () => {
    expect(judgeEntry(entry({ kind: 'hashedrekord' }), want)).toEqual({
      rejected: 'kind hashedrekord, not dsse',
    });
    expect(judgeEntry({ ...entry(), body: '!!not base64 json' }, want)).toEqual({
      rejected: 'body is not base64 JSON',
    });
    expect(judgeEntry(null, want)).toEqual({ rejected: 'body is not base64 JSON' });
    const noSignatures = {
      kind: 'dsse',
      spec: { payloadHash: { algorithm: 'sha256', value: hex(payload) } },
    };
    expect(judgeEntry({ body: Buffer.from(JSON.stringify(noSignatures)).toString('base64') }, want)).toEqual({
      rejected: 'not signed by our key',
    });
    const garbageVerifier = entry({ verifier: 'not a key' });
    expect(judgeEntry(garbageVerifier, want)).toEqual({ rejected: 'not signed by our key' });
  });
});

describe('transparencyEntry', () => {
  it("gives the annotation URL, cosign's RekorBundle and the Sigstore form of a LogEntry", () => {
    const e = entry();
    const out = transparencyEntry('https://rekor.test', e);
    expect(out.url).toBe('https://rekor.test/api/v1/log/entries?logIndex=42');
    expect(out.bundle).toEqual({
      SignedEntryTimestamp: e.verification.signedEntryTimestamp,
      Payload: { body: e.body, integratedTime: 1_700_000_000, logIndex: 42, logID: 'a'.repeat(64) },
    });
    expect(out.tlogEntry.kindVersion).toEqual({ kind: 'dsse', version: '0.0.1' });
    expect(out.tlogEntry.inclusionProof).toBeUndefined();
    const proof = {
      logIndex: 42,
      treeSize: 43,
      rootHash: 'ab'.repeat(32),
      hashes: ['cd'.repeat(32)],
      checkpoint: 'note',
    };
    const proved = transparencyEntry('https://rekor.test', {
      ...e,
      verification: { ...e.verification, inclusionProof: proof },
    });
    expect(proved.tlogEntry.inclusionProof).toEqual({
      logIndex: '42',
      treeSize: '43',
      rootHash: Buffer.from('ab'.repeat(32), 'hex'),
      hashes: [Buffer.from('cd'.repeat(32), 'hex')],
      checkpoint: { envelope: 'note' },
    });
  });

  it('throws on an entry without its log fields', () => {
    expect(() => transparencyEntry('https://rekor.test', { ...entry(), logIndex: 'x' })).toThrow(
      'malformed log entry',
    );
  });
});
