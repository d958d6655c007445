import { describe, expect, it } from 'vitest';
import { type Stored, storeWhereMissing } from '../../../src/attest/store-signed.ts';
import { MetricsTelemetry } from '../../../src/attest/telemetry.ts';
import { ObserverError } from '../../../src/errors.ts';
import { createMetrics } from '../../../src/observability/index.ts';
import type {
  BackendName,
  SignedArtifact,
  StorageBackend,
  StoreRequest,
} from '../../../src/storage/index.ts';
import type { RunRef } from '../../../src/tekton/index.ts';
import { checkedImage } from '../../helpers/checked-images.ts';

const run: RunRef = { kind: 'TaskRun', namespace: 'n', name: 'r', uid: 'u', serviceAccountName: 'default' };
const image = await checkedImage({ repository: 'registry.test/app', digest: `sha256:${'a'.repeat(64)}` });
const signature: SignedArtifact = {
  type: 'image-signature',
  key: 'aaaaaaaaaaaa',
  image,
  payload: new Uint8Array([1]),
  signature: new Uint8Array([2]),
};

function backend(name: BackendName, failures: number) {
  const requests: StoreRequest[] = [];
  const b: StorageBackend = {
    name,
    async store(request) {
      requests.push(request);
      if (failures-- > 0)
        return {
          backend: name,
          ok: false,
          error: new ObserverError('down', { code: 'storage', retryable: true }),
        };
      return { backend: name, ok: true, locations: [`${name}:${request.artifact.key}`] };
    },
  };
  return { b, requests };
}

describe('storeWhereMissing', () => {
  it('stores in every planned backend, and on a second call only where the first failed', async () => {
    const oci = backend('oci', 1);
    const tekton = backend('tekton', 0);
    const o = {
      backends: new Map([
        ['oci', oci.b],
        ['tekton', tekton.b],
      ] as const),
      telemetry: new MetricsTelemetry(createMetrics()),
    };
    const plan = { imageSignatures: { storage: ['oci', 'tekton'] as const } };
    const stored = new Map<string, Stored>();
    const first = await storeWhereMissing(o, plan, run, [signature], stored);
    expect(first.map((f) => f.result.backend)).toEqual(['oci']);
    expect([...stored.keys()]).toEqual(['image-signature/aaaaaaaaaaaa/tekton']);
    const second = await storeWhereMissing(o, plan, run, [signature], stored);
    expect(second).toEqual([]);
    expect([oci.requests.length, tekton.requests.length]).toEqual([2, 1]);
    expect(oci.requests[1]?.artifact).toBe(signature);
  });

  it('fails naming a planned backend that does not exist', async () => {
    const o = { backends: new Map(), telemetry: new MetricsTelemetry(createMetrics()) };
    await expect(
      storeWhereMissing(o, { imageSignatures: { storage: ['oci'] } }, run, [signature], new Map()),
    ).rejects.toThrow(/storage backend "oci" is configured but not available/);
  });
});
