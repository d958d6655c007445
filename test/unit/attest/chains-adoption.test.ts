import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyChainsAnnotations } from '../../../src/attest/index.ts';
import { keyIdOf } from '../../../src/signing/index.ts';
import { chainsAnnotations, protojsonLike } from '../../helpers/chains-stand-in.ts';

const FIXTURES = join(
  import.meta.dirname,
  '../../fixtures/tekton-chains/pkg/chains/formats/slsa/testdata/pipeline-v1',
);
// Chains' own test TaskRun and the SLSA v0.2 statement for it (what Chains' in-toto format emits)
const statement = JSON.parse(readFileSync(join(FIXTURES, 'taskrun1.slsa-v0.2.json'), 'utf8'));
const run = {
  kind: 'TaskRun' as const,
  namespace: 'tenant-a',
  name: 'taskrun1',
  uid: 'abhhf-12354-asjsdbjs23-3435353n',
};
const chains = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const chainsPem = chains.publicKey.export({ format: 'pem', type: 'spki' }).toString();
const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const trust = { publicKeysPem: [chainsPem] };

describe('adopting what Tekton Chains signed', () => {
  it("adopts a run whose Chains annotations verify with Chains' key, naming that key", () => {
    const annotations = chainsAnnotations(run, statement, chains.privateKey);
    const verdict = verifyChainsAnnotations(run, annotations, trust);
    expect(verdict).toMatchObject({
      adopted: true,
      keyId: keyIdOf(chains.publicKey),
      predicateType: 'https://slsa.dev/provenance/v0.2',
      subjects: statement.subject,
    });
    // the payload is Chains' bytes, not our canonical JSON: adoption does not need them equal
    expect(Buffer.from(verdict.adopted ? verdict.payload : []).toString()).toBe(protojsonLike(statement));
    expect(protojsonLike(statement)).not.toBe(JSON.stringify(statement));
  });

  it('accepts any of several configured keys (Chains rotated its key)', () => {
    const annotations = chainsAnnotations(run, statement, chains.privateKey);
    const otherPem = other.publicKey.export({ format: 'pem', type: 'spki' }).toString();
    expect(verifyChainsAnnotations(run, annotations, { publicKeysPem: [otherPem, chainsPem] }).adopted).toBe(
      true,
    );
  });

  it('refuses edited annotations, a foreign key, no key, and runs finished after the cut-over', () => {
    const good = chainsAnnotations(run, statement, chains.privateKey);
    const key = `chains.tekton.dev/payload-taskrun-${run.uid}`;
    const edited = {
      ...good,
      [key]: Buffer.from(protojsonLike({ ...statement, subject: [] })).toString('base64'),
    };
    expect(verifyChainsAnnotations(run, edited, trust)).toEqual({
      adopted: false,
      reason: 'payload_mismatch',
    });
    // a tenant re-signs a changed statement consistently with its own key: the signature is the tell
    const forged = chainsAnnotations(run, { ...statement, subject: [] }, other.privateKey);
    expect(verifyChainsAnnotations(run, forged, trust)).toEqual({
      adopted: false,
      reason: 'signature_invalid',
    });
    expect(verifyChainsAnnotations(run, good, { publicKeysPem: [] })).toEqual({
      adopted: false,
      reason: 'no_chains_key',
    });
    const cutOver = { ...trust, cutOver: new Date('2026-01-01T00:00:00Z') };
    expect(
      verifyChainsAnnotations({ ...run, completedAt: Date.parse('2026-02-01T00:00:00Z') }, good, cutOver),
    ).toEqual({
      adopted: false,
      reason: 'after_cut_over',
    });
    expect(
      verifyChainsAnnotations({ ...run, completedAt: Date.parse('2025-12-01T00:00:00Z') }, good, cutOver)
        .adopted,
    ).toBe(true);
    expect(verifyChainsAnnotations(run, { 'chains.tekton.dev/signed': 'true' }, trust)).toEqual({
      adopted: false,
      reason: 'no_envelope',
    });
    const garbled = {
      ...good,
      [`chains.tekton.dev/signature-taskrun-${run.uid}`]: Buffer.from('{').toString('base64'),
    };
    expect(verifyChainsAnnotations(run, garbled, trust)).toEqual({
      adopted: false,
      reason: 'envelope_malformed',
    });
  });
});
