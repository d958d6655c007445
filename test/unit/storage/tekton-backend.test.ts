import { describe, expect, it } from 'vitest';
import { ANNOTATION_BUDGET_BYTES, type SignedArtifact, TektonBackend } from '../../../src/storage/index.ts';
import type { RunRef } from '../../../src/tekton/run-ref.ts';

const run: RunRef = {
  kind: 'TaskRun',
  namespace: 'ns',
  name: 'build',
  uid: 'u-1',
  serviceAccountName: 'default',
};
const provenance = (payloadBytes: number, certificatePem?: string): SignedArtifact => {
  const envelope = {
    payloadType: 'application/vnd.in-toto+json',
    payload: 'e30=',
    signatures: [{ sig: 'AQ==' }],
  };
  return {
    type: 'provenance',
    key: 'taskrun-u-1',
    predicateType: 'https://slsa.dev/provenance/v1',
    payload: new Uint8Array(payloadBytes).fill(0x41),
    envelope,
    envelopeBytes: new TextEncoder().encode(JSON.stringify(envelope)),
    images: [],
    certificatePem,
  };
};

describe('TektonBackend (Chains annotations on the run)', () => {
  it('asks for payload and signature (base64) on the run, cert only when there is one', async () => {
    const result = await new TektonBackend().store({ run, artifact: provenance(10) });
    expect(result.ok).toBe(true);
    const annotations = (result.ok && result.runAnnotations) || {};
    expect(Object.keys(annotations).sort()).toEqual([
      'chains.tekton.dev/payload-taskrun-u-1',
      'chains.tekton.dev/signature-taskrun-u-1',
    ]);
    expect(Buffer.from(annotations['chains.tekton.dev/payload-taskrun-u-1'] ?? '', 'base64').toString()).toBe(
      'A'.repeat(10),
    );
    expect(result.ok && result.locations).toEqual([
      'TaskRun ns/build annotations chains.tekton.dev/payload-taskrun-u-1',
    ]);
    const certified = await new TektonBackend().store({
      run,
      artifact: provenance(10, '-----BEGIN CERTIFICATE-----\n'),
    });
    expect(certified.ok && certified.runAnnotations?.['chains.tekton.dev/cert-taskrun-u-1']).toBe(
      Buffer.from('-----BEGIN CERTIFICATE-----\n').toString('base64'),
    );
  });

  it('a payload over the annotation budget is not asked for; the run says where it is, and the store still succeeds', async () => {
    const result = await new TektonBackend().store({ run, artifact: provenance(ANNOTATION_BUDGET_BYTES) });
    expect(result.ok).toBe(true);
    expect(result.ok && result.notes?.[0]).toMatch(/exceed the \d+-byte annotation budget/);
    const written = (result.ok && result.runAnnotations) || {};
    expect(written['chains.tekton.dev/payload-taskrun-u-1']).toBeNull();
    expect(written['chains.tekton.dev/signature-taskrun-u-1']).toBeNull();
    expect(written['chains.tekton.dev/stored-elsewhere-taskrun-u-1']).toMatch(/stored in the observer index/);
  });
});
