import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadKubeConfig } from '../../src/config/index.ts';
import { KubeConnection, kubeStatusOf, RunApi, TokenBucket } from '../../src/kube/index.ts';
import { kubeAccessFor, loadLocalEnv, STATE_DIR } from '../env/index.ts';

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

// The in-cluster path against the real apiserver: its serving certificate verified with the mounted
// CA (no insecure-skip-tls-verify), and the projected token re-read from its file as it rotates.
describe('in-cluster access to the real apiserver', () => {
  it('verifies the apiserver with ca.crt and uses the rotated token once re-read', async () => {
    const env = loadLocalEnv();
    const dir = mkdtempSync(join(tmpdir(), 'serviceaccount-'));
    // the self-signed serving certificate file holds the certificate and the CA that signed it
    writeFileSync(join(dir, 'ca.crt'), readFileSync(join(STATE_DIR, 'apiserver', 'certs', 'apiserver.crt')));
    writeFileSync(join(dir, 'token'), 'expired-token');
    const server = new URL(env.apiserver);
    const access = loadKubeConfig({
      env: { KUBERNETES_SERVICE_HOST: server.hostname, KUBERNETES_SERVICE_PORT: server.port },
      home: mkdtempSync(join(tmpdir(), 'home-')),
      serviceAccountDir: dir,
      tokenMaxAgeMs: 0,
    });
    expect(access.insecureSkipTlsVerify).toBeUndefined();
    const connection = new KubeConnection({ access });
    try {
      const api = new RunApi({ connection });
      const key = { kind: 'TaskRun', namespace: 'tenant-a', name: 'no-such-run' } as const;
      const refused = await api.get(key).catch((e: unknown) => e);
      expect(kubeStatusOf(refused)).toBe(401);
      writeFileSync(join(dir, 'token'), env.tokens.observer); // the kubelet rotated it
      expect(await api.get(key)).toBeUndefined();
    } finally {
      await connection.close();
    }
  });
});
