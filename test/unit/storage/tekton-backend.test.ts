import { describe, expect, it } from 'vitest';
import { ObserverError } from '../../../src/errors.ts';
import { KubeApiError, kubeError } from '../../../src/kube/index.ts';
import { ANNOTATION_BUDGET_BYTES, type SignedArtifact, TektonBackend } from '../../../src/storage/index.ts';
import type { RunKey, RunRef } from '../../../src/tekton/run-ref.ts';

class RecordingRunApi {
  readonly patches: { key: RunKey; annotations: Record<string, string | null>; uid?: string }[] = [];
  fail = false;
  gone = false;
  async patchAnnotations(key: RunKey, annotations: Record<string, string | null>, uid?: string) {
    if (this.gone)
      throw kubeError('annotating TaskRun ns/build', new KubeApiError(404, { message: 'not found' }));
    if (this.fail)
      throw new ObserverError('annotating TaskRun ns/build: HTTP 500', { code: 'kube', retryable: true });
    this.patches.push({ key, annotations, uid });
  }
}
RecordingRunApi satisfies new () => ConstructorParameters<typeof TektonBackend>[0]['runApi'];

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
  it('writes payload and signature (base64) for this incarnation of the run, cert only when there is one', async () => {
    const api = new RecordingRunApi();
    const result = await new TektonBackend({ runApi: api }).store({ run, artifact: provenance(10) });
    expect(result.ok).toBe(true);
    const [patch] = api.patches;
    expect(patch?.uid).toBe('u-1');
    expect(Object.keys(patch?.annotations ?? {}).sort()).toEqual([
      'chains.tekton.dev/payload-taskrun-u-1',
      'chains.tekton.dev/signature-taskrun-u-1',
    ]);
    expect(
      Buffer.from(patch?.annotations['chains.tekton.dev/payload-taskrun-u-1'] ?? '', 'base64').toString(),
    ).toBe('A'.repeat(10));
    await new TektonBackend({ runApi: api }).store({
      run,
      artifact: provenance(10, '-----BEGIN CERTIFICATE-----\n'),
    });
    expect(api.patches[1]?.annotations['chains.tekton.dev/cert-taskrun-u-1']).toBeDefined();
  });

  it('a payload over the annotation budget is not written; the run says where it is, and the store still succeeds', async () => {
    const api = new RecordingRunApi();
    const result = await new TektonBackend({ runApi: api }).store({
      run,
      artifact: provenance(ANNOTATION_BUDGET_BYTES),
    });
    expect(result.ok).toBe(true);
    expect(result.ok && result.notes?.[0]).toMatch(/exceed the \d+-byte annotation budget/);
    const written = api.patches[0]?.annotations ?? {};
    expect(written['chains.tekton.dev/payload-taskrun-u-1']).toBeNull();
    expect(written['chains.tekton.dev/stored-elsewhere-taskrun-u-1']).toMatch(/stored in the observer index/);
  });

  it('reports an apiserver failure as a retryable result, not a throw', async () => {
    const api = new RecordingRunApi();
    api.fail = true;
    const result = await new TektonBackend({ runApi: api }).store({ run, artifact: provenance(10) });
    expect(result).toMatchObject({ backend: 'tekton', ok: false });
    expect(!result.ok && result.error.retryable).toBe(true);
  });

  it('a run deleted since it was captured (404) is not a failure: nothing to annotate, a note says where it is', async () => {
    const runApi = new RecordingRunApi();
    runApi.gone = true;
    const result = await new TektonBackend({ runApi }).store({ run, artifact: provenance(10) });
    expect(result.ok).toBe(true);
    expect(result.ok && result.locations).toEqual([]);
    expect(result.ok && result.notes?.join()).toContain('TaskRun ns/build was deleted');
  });
});
