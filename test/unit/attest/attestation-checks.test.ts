import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AttestationChecks, Attestor } from '../../../src/attest/index.ts';
import { parseConfig } from '../../../src/config/index.ts';
import { ObserverError } from '../../../src/errors.ts';
import { createMetrics } from '../../../src/observability/index.ts';
import { parseSubjectPolicy, type SubjectExistenceCheck } from '../../../src/policy/index.ts';
import { loadX509Pem } from '../../../src/signing/index.ts';
import type { BackendName, StorageBackend, StoreRequest } from '../../../src/storage/index.ts';
import type { TektonRun } from '../../../src/tekton/index.ts';
import type { RunRef } from '../../../src/tekton/run-ref.ts';

const own = `sha256:${'a'.repeat(64)}`;
const theirs = `sha256:${'b'.repeat(64)}`;
const ghost = `sha256:${'c'.repeat(64)}`;
const stepImage = `docker.io/library/busybox@sha256:${'d'.repeat(64)}`;
const run: RunRef = {
  kind: 'TaskRun',
  namespace: 'tenant-a',
  name: 'b1',
  uid: 'uid-1',
  serviceAccountName: 'default',
};
const taskRun = {
  kind: 'TaskRun',
  metadata: { name: 'b1', namespace: 'tenant-a', uid: 'uid-1' },
  spec: {},
  status: {
    conditions: [{ type: 'Succeeded', status: 'True' }],
    podName: 'b1-pod',
    results: [
      {
        name: 'IMAGES',
        value: `reg.io/tenant-a/app@${own}, reg.io/tenant-b/app@${theirs}, reg.io/tenant-a/app@${ghost}`,
      },
    ],
    steps: [{ name: 'build', container: 'step-build', imageID: stepImage }],
  },
} as unknown as TektonRun;
const policy = parseSubjectPolicy(
  `rules: [{name: own, namespaces: [tenant-a], repositories: ["reg.io/\${namespace}/*"]}]`,
);
const existence = {
  check: async (_r: RunRef, i: { digest: string }) =>
    i.digest === ghost ? { result: 'not_found' as const, detail: 'HTTP 404' } : { result: 'exists' as const },
} satisfies Pick<SubjectExistenceCheck, 'check'>;
const pod = (imageID: string) => ({
  metadata: { name: 'b1-pod', ownerReferences: [{ uid: 'uid-1' }] },
  status: { containerStatuses: [{ name: 'step-build', imageID }] },
});
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signer = loadX509Pem(
  new TextEncoder().encode(privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()),
  {
    namespace: 'ns',
    name: 's',
    entry: 'x509.pem',
  },
);

function attestor(mode: 'record' | 'enforce', ran: string) {
  const stored: StoreRequest[] = [];
  const backend = (name: BackendName): StorageBackend => ({
    name,
    store: async (r) => {
      stored.push(r);
      return { backend: name, ok: true, locations: [] };
    },
  });
  const checks = new AttestationChecks({
    policy,
    executionCheck: mode,
    existence,
    pods: { get: async () => pod(ran) as never },
  });
  const a = new Attestor({
    config: parseConfig({}),
    backends: new Map([
      ['tekton', backend('tekton')],
      ['oci', backend('oci')],
    ]),
    metrics: createMetrics(),
    checks,
  });
  return { a, stored };
}

describe('Attestor with the attestation checks', () => {
  it('signs and stores only the subjects the namespace may claim and that exist; reports the rest', async () => {
    const { a, stored } = attestor('record', stepImage);
    const out = await a.attest(run, taskRun, [], signer);
    expect(out.ok).toBe(true);
    expect(out.provenance?.statement.subject).toEqual([
      { name: 'reg.io/tenant-a/app', digest: { sha256: 'a'.repeat(64) } },
    ]);
    const sigs = stored.filter((s) => s.artifact.type === 'image-signature').map((s) => s.artifact);
    expect(sigs.map((s) => (s.type === 'image-signature' ? s.image.digest : ''))).toEqual([own]);
    expect(out.skipped.map((s) => s.code).sort()).toEqual(['repository_not_allowed', 'subject_not_found']);
    expect(out.skipped.find((s) => s.code === 'repository_not_allowed')?.reason).toContain('own (reg.io/');
    expect(out.executionCheck).toEqual({ result: 'match', podName: 'b1-pod', containers: 1 });
  });
  it('record: a mismatch is in the outcome and the statement; enforce: refused, not retryable', async () => {
    const other = `quay.io/evil/tool@sha256:${'e'.repeat(64)}`;
    const recorded = await attestor('record', other).a.attest(run, taskRun, [], signer);
    expect(recorded.executionCheck?.result).toBe('mismatch');
    expect(JSON.stringify(recorded.provenance?.statement)).toContain('executionCheck');
    const enforced = attestor('enforce', other);
    const err = await enforced.a.attest(run, taskRun, [], signer).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ObserverError);
    expect(err).toMatchObject({ retryable: false, message: expect.stringContaining('mismatch') });
    expect(enforced.stored).toHaveLength(0);
  });
});
