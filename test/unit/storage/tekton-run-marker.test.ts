import { describe, expect, it } from 'vitest';
import { ANNOTATION_BUDGET_BYTES, type SignedArtifact, TektonRunMarker } from '../../../src/storage/index.ts';
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

describe('TektonRunMarker (Chains annotations on the run, written with the signed mark)', () => {
  it('asks for payload and signature (base64) on the run, cert only when there is one', async () => {
    const result = new TektonRunMarker().marksFor(run, provenance(10));
    const { annotations } = result;
    expect(Object.keys(annotations).sort()).toEqual([
      'chains.tekton.dev/payload-taskrun-u-1',
      'chains.tekton.dev/signature-taskrun-u-1',
    ]);
    expect(Buffer.from(annotations['chains.tekton.dev/payload-taskrun-u-1'] ?? '', 'base64').toString()).toBe(
      'A'.repeat(10),
    );
    expect(result.location).toBe('TaskRun ns/build annotations chains.tekton.dev/payload-taskrun-u-1');
    const certified = new TektonRunMarker().marksFor(run, provenance(10, '-----BEGIN CERTIFICATE-----\n'));
    expect(certified.annotations['chains.tekton.dev/cert-taskrun-u-1']).toBe(
      Buffer.from('-----BEGIN CERTIFICATE-----\n').toString('base64'),
    );
  });

  it('a payload over the annotation budget is not asked for; the run says where it is, and the store still succeeds', async () => {
    const result = new TektonRunMarker().marksFor(run, provenance(ANNOTATION_BUDGET_BYTES));
    expect(result.note).toMatch(/exceed the \d+-byte annotation budget/);
    const written = result.annotations;
    expect(written['chains.tekton.dev/payload-taskrun-u-1']).toBeNull();
    expect(written['chains.tekton.dev/signature-taskrun-u-1']).toBeNull();
    expect(written['chains.tekton.dev/stored-elsewhere-taskrun-u-1']).toMatch(/stored in the observer index/);
  });
});
