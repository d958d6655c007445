import { generateKeyPairSync } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { Attestor } from '../../../src/attest/index.ts';
import { parseConfig } from '../../../src/config/index.ts';
import { createMetrics } from '../../../src/observability/index.ts';
import { type ExecutionCheckOutcome, SubjectGate, UNSET_SUBJECT_POLICY } from '../../../src/policy/index.ts';
import { loadX509Pem, type TransparencyLog } from '../../../src/signing/index.ts';
import {
  type BackendName,
  payloadAnnotation,
  type StorageBackend,
  signatureAnnotation,
} from '../../../src/storage/index.ts';
import { publishedKeyVerifier } from '../../../src/verify/index.ts';
import { FakeBackend, taskRunRef as run, taskRun } from '../fakes.ts';

const digest = `sha256:${'b'.repeat(64)}`;

describe('Attestor', () => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signer = loadX509Pem(
    new TextEncoder().encode(privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()),
    { namespace: 'ns', name: 's', entry: 'x509.pem' },
  );
  let tekton: FakeBackend;
  let oci: FakeBackend;
  // deploy/'s recommendation (SLSA v1.0 to tekton and oci), not Chains' defaults
  const recommended = {
    'artifacts.taskrun.format': 'slsa/v1.0',
    'artifacts.taskrun.storage': 'tekton,oci',
  };
  const attestor = (config: Record<string, string> = {}, transparencyLog?: TransparencyLog) =>
    new Attestor({
      config: parseConfig({ ...recommended, ...config }),
      backends: new Map<BackendName, StorageBackend>([
        ['tekton', tekton],
        ['oci', oci],
      ]),
      metrics: createMetrics(),
      transparencyLog: () => transparencyLog,
    });
  beforeEach(() => {
    tekton = new FakeBackend('tekton');
    oci = new FakeBackend('oci');
  });

  it('signs provenance and the built image, and stores each in its configured backends', async () => {
    const out = await attestor().attest(
      run,
      taskRun([
        { name: 'IMAGE_URL', value: 'registry.test/app:v1' },
        { name: 'IMAGE_DIGEST', value: digest },
      ]),
      [],
      signer,
    );
    expect(out.ok).toBe(true);
    expect(out.provenance?.statement.subject).toEqual([
      { name: 'registry.test/app', digest: { sha256: 'b'.repeat(64) } },
    ]);
    expect(tekton.requests.map((r) => r.artifact.type)).toEqual(['provenance']);
    expect(oci.requests.map((r) => r.artifact.type).sort()).toEqual(['image-signature', 'provenance']);
    const provenance = oci.requests.find((r) => r.artifact.type === 'provenance')?.artifact;
    expect(provenance?.type === 'provenance' && provenance.images).toMatchObject([
      { repository: 'registry.test/app', digest },
    ]);
    expect(out.results).toHaveLength(3);
  });

  it('on retry stores the same envelope again, only where it failed', async () => {
    const a = attestor();
    oci.failNext = 1;
    const input = taskRun([
      { name: 'IMAGE_URL', value: 'registry.test/app' },
      { name: 'IMAGE_DIGEST', value: digest },
    ]);
    const first = await a.attest(run, input, [], signer);
    expect(first.ok).toBe(false);
    const second = await a.attest(run, input, [], signer);
    expect(second.ok).toBe(true);
    expect(tekton.requests).toHaveLength(1);
    const envelopes = oci.requests
      .filter((r) => r.artifact.type === 'provenance')
      .map((r) => r.artifact.type === 'provenance' && Buffer.from(r.artifact.envelopeBytes).toString());
    expect(envelopes).toHaveLength(2);
    expect(envelopes[0]).toBe(envelopes[1]);
    expect(second.results.filter((r) => r.result.ok)).toHaveLength(3);
  });

  it('leaves out a malformed result with a reason and still attests the rest', async () => {
    const out = await attestor().attest(
      run,
      taskRun([
        { name: 'IMAGE_URL', value: 'registry.test/app' },
        { name: 'IMAGE_DIGEST', value: digest },
        { name: 'OTHER_IMAGE_URL', value: 'registry.test/other' },
        { name: 'OTHER_IMAGE_DIGEST', value: 'sha256:NOTHEX' },
      ]),
      [],
      signer,
    );
    expect(out.ok).toBe(true);
    expect(out.provenance?.statement.subject).toHaveLength(1);
    expect(out.skipped.map((s) => s.source).join()).toContain('OTHER_IMAGE_DIGEST');
  });

  it('logs the envelope in Rekor when transparency is on, and carries the bundle to storage', async () => {
    const uploads: string[] = [];
    const tlog = {
      async uploadEnvelope(envelope) {
        uploads.push(envelope.payloadType);
        return {
          url: 'https://rekor.test/api/v1/log/entries?logIndex=7',
          logIndex: 7,
          bundle: {
            SignedEntryTimestamp: 'set',
            Payload: { body: 'b', integratedTime: 1, logIndex: 7, logID: 'id' },
          },
          tlogEntry: {} as never,
        };
      },
      async uploadSignature() {
        throw new Error('not used');
      },
      findEnvelope: async () => undefined,
    } satisfies TransparencyLog;
    const out = await attestor({ 'transparency.enabled': 'true' }, tlog).attest(run, taskRun([]), [], signer);
    expect(uploads).toEqual(['application/vnd.in-toto+json']);
    expect(out.transparencyUrl).toBe('https://rekor.test/api/v1/log/entries?logIndex=7');
    const stored = tekton.requests[0]?.artifact;
    expect(stored?.rekorBundle && JSON.parse(stored.rekorBundle).Payload.logIndex).toBe(7);
  });

  it('in manual mode uploads only runs that ask, and a failed upload fails the attempt', async () => {
    const failing = {
      uploadEnvelope: async () => Promise.reject(new Error('rekor down')),
      uploadSignature: async () => Promise.reject(new Error('x')),
      findEnvelope: async () => undefined,
    } satisfies TransparencyLog;
    const manual = attestor({ 'transparency.enabled': 'manual' }, failing);
    expect((await manual.attest(run, taskRun([]), [], signer)).transparencyUrl).toBeUndefined();
    await expect(
      attestor({ 'transparency.enabled': 'manual' }, failing).attest(
        run,
        taskRun([], { 'chains.tekton.dev/transparency-upload': 'true' }),
        [],
        signer,
      ),
    ).rejects.toMatchObject({ code: 'tlog', retryable: true });
  });
});

describe('Attestor adoption after the Pod was pruned', () => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signer = loadX509Pem(
    new TextEncoder().encode(privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()),
    { namespace: 'ns', name: 's', entry: 'x509.pem' },
  );
  const match: ExecutionCheckOutcome = { result: 'match', podName: 'build-1-pod', containers: 1 };
  const attestor = (execution: ExecutionCheckOutcome, tekton: FakeBackend) =>
    new Attestor({
      config: parseConfig({
        'artifacts.taskrun.storage': 'tekton',
        'artifacts.oci.storage': 'tekton',
      }),
      backends: new Map<BackendName, StorageBackend>([['tekton', tekton]]),
      metrics: createMetrics(),
      verifies: publishedKeyVerifier(
        () => [{ keyId: signer.keyId, publicKeyPem: signer.publicKeyPem }] as never,
      ),
      checks: {
        execution: async () => execution,
        subjects: (run, claims) => new SubjectGate({ policy: UNSET_SUBJECT_POLICY }).check(run, claims),
      },
    });
  const results = [
    { name: 'IMAGE_URL', value: 'registry.test/app:v1' },
    { name: 'IMAGE_DIGEST', value: digest },
  ];

  /** Attests with the Pod present and returns the annotations TektonBackend would have written. */
  async function attestedOnce(): Promise<{ annotations: Record<string, string>; envelope: Uint8Array }> {
    const tekton = new FakeBackend('tekton');
    await attestor(match, tekton).attest(run, taskRun(results), [], signer);
    const artifact = tekton.requests.find((r) => r.artifact.type === 'provenance')?.artifact;
    if (artifact?.type !== 'provenance') throw new Error('no provenance stored');
    const key = artifact.key;
    return {
      annotations: {
        [payloadAnnotation(key)]: Buffer.from(artifact.payload).toString('base64'),
        [signatureAnnotation(key)]: Buffer.from(artifact.envelopeBytes).toString('base64'),
      },
      envelope: artifact.envelopeBytes,
    };
  }

  /** A later attempt (another replica, or after an index loss) on the run now carrying `annotations`. */
  const attestAgain = (check: ExecutionCheckOutcome, annotations: Record<string, string>) =>
    attestor(check, new FakeBackend('tekton')).attest(run, taskRun(results, annotations), [], signer);

  it('adopts the envelope whose recorded check was made when the Pod existed', async () => {
    const { annotations, envelope } = await attestedOnce();
    const gone: ExecutionCheckOutcome = { result: 'pod_not_found', podName: 'build-1-pod' };
    const out = await attestAgain(gone, annotations);
    expect(out.adopted).toBe(true);
    expect(out.executionCheck).toEqual(match);
    expect(Buffer.from(out.provenance?.artifact.envelopeBytes ?? []).toString()).toBe(
      Buffer.from(envelope).toString(),
    );
  });

  it('does not adopt when the Pod exists now and disagrees (a check made now stands)', async () => {
    const { annotations } = await attestedOnce();
    const now: ExecutionCheckOutcome = { result: 'mismatch', podName: 'build-1-pod', differences: [] };
    const out = await attestAgain(now, annotations);
    expect(out.adopted).toBe(false);
    expect(out.executionCheck).toEqual(now);
  });
});
