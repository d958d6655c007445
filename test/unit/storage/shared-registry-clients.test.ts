import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/index.ts';
import { KubeConnection } from '../../../src/kube/index.ts';
import { createLogger, createMetrics } from '../../../src/observability/index.ts';
import { backendsFromConfig, OciClients } from '../../../src/storage/index.ts';
import type { RunRef } from '../../../src/tekton/index.ts';
import { checkedImage } from '../../helpers/checked-images.ts';

const run: RunRef = {
  kind: 'TaskRun',
  namespace: 'tenant-a',
  name: 'build-1',
  uid: 'u1',
  serviceAccountName: 'default',
};
const digest = `sha256:${'a'.repeat(64)}`;

describe('one set of registry clients for storing and for existence checks', () => {
  it('the OCI backend uses the clients it is given: a circuit opened by existence checks fails its stores fast', async () => {
    let requests = 0;
    const clients = new OciClients({
      insecure: true,
      allowedPrivate: ['127.0.0.1'],
      breaker: { failureThreshold: 2, coolDownMs: 60_000 },
      fetch: async () => {
        requests++;
        throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
      },
    });
    const backends = backendsFromConfig({
      config: parseConfig({ 'artifacts.taskrun.storage': 'oci', 'artifacts.oci.storage': 'oci' }),
      connection: new KubeConnection({ access: { server: 'https://127.0.0.1:1', source: 'test' } }),
      metrics: createMetrics(),
      logger: createLogger({ level: 'silent' }),
      ociClients: clients,
    });
    // the existence check's HEADs (through the shared clients) find the host down twice
    const head = await clients.client(run, 'reg.example:5000', 'app');
    for (let i = 0; i < 2; i++) await expect(head.headManifest('app', digest)).rejects.toThrow();
    expect(requests).toBe(2);
    const oci = backends.get('oci');
    if (oci?.role === 'marker') throw new Error('oci is a storage backend');
    const result = await oci?.store({
      run,
      artifact: {
        type: 'image-signature',
        key: 'aaaaaaaaaaaa',
        image: await checkedImage({ repository: 'reg.example:5000/app', digest }),
        payload: new Uint8Array([1]),
        signature: new Uint8Array([2]),
      },
    });
    expect(result?.ok).toBe(false);
    expect(result?.ok === false && result.error.message).toMatch(/registry_circuit_open/);
    expect(requests).toBe(2); // failed fast: the store never reached the host
  });
});
