import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyChainsAnnotations } from '../../../src/attest/index.ts';
import { keyIdOf } from '../../../src/signing/index.ts';
import { chainsAnnotations, chainsStatementFor, protojsonLike } from '../../helpers/chains-stand-in.ts';

const FIXTURES = join(
  import.meta.dirname,
  '../../fixtures/tekton-chains/pkg/chains/formats/slsa/testdata/pipeline-v1',
);
// Chains' own test TaskRun and the SLSA v0.2 statement for it (what Chains' in-toto format emits)
const statement = JSON.parse(readFileSync(join(FIXTURES, 'taskrun1.slsa-v0.2.json'), 'utf8'));
// as Chains' test data has it: namespace `default`, completed 2021-03-29T09:50:15Z
const run = {
  kind: 'TaskRun' as const,
  namespace: 'default',
  name: 'taskrun1',
  uid: 'abhhf-12354-asjsdbjs23-3435353n',
  completedAt: Date.parse('2021-03-29T09:50:15Z'),
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

  it("refuses a valid Chains envelope that is another run's (copied onto this one)", () => {
    const good = chainsAnnotations(run, statement, chains.privateKey);
    const later = { ...run, completedAt: run.completedAt + 60_000 };
    expect(verifyChainsAnnotations(later, good, trust)).toEqual({ adopted: false, reason: 'run_mismatch' });
    const elsewhere = { ...run, namespace: 'tenant-b' };
    expect(verifyChainsAnnotations(elsewhere, good, trust)).toEqual({
      adopted: false,
      reason: 'run_mismatch',
    });
    const { completedAt: _, ...unfinished } = run;
    expect(verifyChainsAnnotations(unfinished, good, trust)).toEqual({
      adopted: false,
      reason: 'run_mismatch',
    });
    // SLSA v1.0 (Chains' slsa/v2alpha*): the uid is the invocation id
    const v1 = JSON.parse(readFileSync(join(FIXTURES, 'taskrun1.slsa-v1.0.json'), 'utf8'));
    const bound = chainsStatementFor(
      v1,
      { ...run, startTime: '2021-03-29T09:50:00Z', completionTime: '2021-03-29T09:50:15Z' },
      v1.subject,
    );
    expect(
      verifyChainsAnnotations(run, chainsAnnotations(run, bound, chains.privateKey), trust).adopted,
    ).toBe(true);
    const other = chainsAnnotations({ ...run, uid: 'another-uid' }, { ...bound }, chains.privateKey);
    const moved = Object.fromEntries(
      Object.entries(other).map(([k, v]) => [k.replace('another-uid', run.uid), v]),
    );
    const v1Other = chainsStatementFor(
      v1,
      {
        ...run,
        uid: 'another-uid',
        startTime: '2021-03-29T09:50:00Z',
        completionTime: '2021-03-29T09:50:15Z',
      },
      v1.subject,
    );
    const copied = Object.fromEntries(
      Object.entries(chainsAnnotations({ ...run, uid: 'another-uid' }, v1Other, chains.privateKey)).map(
        ([k, v]) => [k.replace('another-uid', run.uid), v],
      ),
    );
    expect(verifyChainsAnnotations(run, moved, trust).adopted).toBe(true); // same statement: this run's
    expect(verifyChainsAnnotations(run, copied, trust)).toEqual({ adopted: false, reason: 'run_mismatch' });
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
    const cutOver = { ...trust, cutOver: new Date('2021-03-29T09:00:00Z') };
    expect(verifyChainsAnnotations(run, good, cutOver)).toEqual({ adopted: false, reason: 'after_cut_over' });
    expect(
      verifyChainsAnnotations(run, good, { ...trust, cutOver: new Date('2021-03-30T00:00:00Z') }).adopted,
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
