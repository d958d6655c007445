import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RunApi, reuseConnections } from '../../src/kube/index.ts';
import { kubeConfigFor } from '../env/index.ts';

// client-node 2.0 opens a new TLS connection for every API request; the observer's RunApi must not.
// undici reports each new connection on the `undici:client:connected` diagnostics channel.
describe('connections to the apiserver', () => {
  let connections = 0;
  const count = () => {
    connections++;
  };
  beforeEach(() => {
    connections = 0;
    subscribe('undici:client:connected', count);
  });
  afterEach(() => unsubscribe('undici:client:connected', count));

  const readMissingRuns = async (api: RunApi, n: number) => {
    for (let i = 0; i < n; i++)
      expect(
        await api.get({ kind: 'TaskRun', namespace: 'tenant-a', name: `no-such-run-${i}` }),
      ).toBeUndefined();
  };

  it('client-node alone opens one connection per request (the baseline this guards against)', async () => {
    await readMissingRuns(new RunApi({ kubeConfig: kubeConfigFor('observer') }), 10);
    expect(connections).toBe(10);
  });

  it('with reuseConnections, 30 sequential and 10 concurrent requests share a few connections', async () => {
    const api = new RunApi({ kubeConfig: reuseConnections(kubeConfigFor('observer')) });
    await readMissingRuns(api, 30);
    expect(connections).toBe(1);
    await Promise.all(Array.from({ length: 10 }, (_, i) => readMissingRuns(api, 1 + (i % 2))));
    expect(connections).toBeLessThanOrEqual(11);
  });
});
