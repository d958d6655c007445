import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KubeConnection, RunApi, TokenBucket } from '../../src/kube/index.ts';
import { kubeAccessFor } from '../env/index.ts';

// client-node 2.0 opened a new TLS connection for every API request; the observer's own
// KubeConnection must not. undici reports each new connection on `undici:client:connected`.
describe('connections to the apiserver', () => {
  let connections = 0;
  const count = () => {
    connections++;
  };
  let opened: KubeConnection[] = [];
  beforeEach(() => {
    connections = 0;
    subscribe('undici:client:connected', count);
  });
  afterEach(async () => {
    unsubscribe('undici:client:connected', count);
    for (const c of opened) await c.close();
    opened = [];
  });
  const connect = (limit?: TokenBucket) => {
    const c = new KubeConnection({ access: kubeAccessFor('observer'), ...(limit ? { limit } : {}) });
    opened.push(c);
    return c;
  };

  const readMissingRuns = async (api: RunApi, n: number) => {
    for (let i = 0; i < n; i++)
      expect(
        await api.get({ kind: 'TaskRun', namespace: 'tenant-a', name: `no-such-run-${i}` }),
      ).toBeUndefined();
  };

  it('30 sequential and 10 concurrent requests share a few connections', async () => {
    const api = new RunApi({ connection: connect() });
    await readMissingRuns(api, 30);
    expect(connections).toBe(1);
    await Promise.all(Array.from({ length: 10 }, (_, i) => readMissingRuns(api, 1 + (i % 2))));
    expect(connections).toBeLessThanOrEqual(11);
  });

  it('takes a rate-limit token per request', async () => {
    const limit = new TokenBucket({ qps: 20, burst: 2 });
    const api = new RunApi({ connection: connect(limit) });
    const started = performance.now();
    await readMissingRuns(api, 6);
    // 2 at once, then 4 at 20/s: at least ~200 ms
    expect(performance.now() - started).toBeGreaterThanOrEqual(180);
  });
});
