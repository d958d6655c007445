import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { adoptProvenance } from '../../../src/attest/adopt-provenance.ts';
import type { Provenance } from '../../../src/formats/index.ts';
import { INTOTO_PAYLOAD_TYPE } from '../../../src/intoto/index.ts';
import { KeySigner, signEnvelope } from '../../../src/signing/index.ts';
import { payloadAnnotation, signatureAnnotation } from '../../../src/storage/index.ts';
import type { RunRef } from '../../../src/tekton/index.ts';
import { publishedKeyVerifier } from '../../../src/verify/index.ts';

const run: RunRef = { kind: 'TaskRun', namespace: 'tenant-a', name: 'build-1', uid: 'uid-1' } as RunRef;
const key = 'taskrun-uid-1';
const signerOf = () => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return new KeySigner({ privateKey, algorithm: 'ecdsa-p256-sha256' });
};
const provenanceOf = (text: string): Provenance =>
  ({
    payload: new TextEncoder().encode(text),
    statement: { predicateType: 'https://slsa.dev/provenance/v1' },
    images: [],
    skipped: [],
  }) as unknown as Provenance;
const published = (...signers: KeySigner[]) =>
  publishedKeyVerifier(() => signers.map((s) => ({ keyId: s.keyId, publicKeyPem: s.publicKeyPem })) as never);

/** The annotations an earlier attestation left on the run (TektonBackend's encoding). */
async function annotated(signer: KeySigner, payloadText: string, envelopePayload = payloadText) {
  const { envelopeBytes } = await signEnvelope(
    new TextEncoder().encode(envelopePayload),
    INTOTO_PAYLOAD_TYPE,
    signer,
  );
  return {
    [payloadAnnotation(key)]: Buffer.from(payloadText).toString('base64'),
    [signatureAnnotation(key)]: Buffer.from(envelopeBytes).toString('base64'),
    'chains.tekton.dev/signed': 'true',
  };
}

describe('adoptProvenance (an observer that lost its index finds its own envelopes)', () => {
  it('adopts the envelope when its payload is the statement built now and a published key signed it', async () => {
    const signer = signerOf();
    const annotations = await annotated(signer, '{"statement":1}');
    const adopted = await adoptProvenance(
      run,
      annotations,
      provenanceOf('{"statement":1}'),
      published(signer),
    );
    expect(adopted?.envelopeBytes).toEqual(
      new Uint8Array(Buffer.from(annotations[signatureAnnotation(key)], 'base64')),
    );
    expect(adopted?.key).toBe(key);
  });

  it('adopts an envelope signed by a retired key that is still published', async () => {
    const retired = signerOf();
    const annotations = await annotated(retired, '{"s":2}');
    expect(
      await adoptProvenance(run, annotations, provenanceOf('{"s":2}'), published(signerOf(), retired)),
    ).toBeDefined();
  });

  it('does not adopt a tenant-signed envelope (key not published)', async () => {
    const annotations = await annotated(signerOf(), '{"s":3}');
    expect(
      await adoptProvenance(run, annotations, provenanceOf('{"s":3}'), published(signerOf())),
    ).toBeUndefined();
  });

  it('does not adopt when the run changed since (the statement built now differs)', async () => {
    const signer = signerOf();
    const annotations = await annotated(signer, '{"old":1}');
    expect(
      await adoptProvenance(run, annotations, provenanceOf('{"new":1}'), published(signer)),
    ).toBeUndefined();
  });

  it('does not adopt a payload annotation that disagrees with the signed envelope', async () => {
    const signer = signerOf();
    const annotations = await annotated(signer, '{"s":4}', '{"other":4}');
    expect(
      await adoptProvenance(run, annotations, provenanceOf('{"s":4}'), published(signer)),
    ).toBeUndefined();
  });

  it('does not adopt a garbled or missing signature annotation', async () => {
    const signer = signerOf();
    const annotations = await annotated(signer, '{"s":5}');
    const garbled = {
      ...annotations,
      [signatureAnnotation(key)]: Buffer.from('{not json').toString('base64'),
    };
    expect(await adoptProvenance(run, garbled, provenanceOf('{"s":5}'), published(signer))).toBeUndefined();
    const { [signatureAnnotation(key)]: _, ...missing } = annotations;
    expect(await adoptProvenance(run, missing, provenanceOf('{"s":5}'), published(signer))).toBeUndefined();
  });
});
