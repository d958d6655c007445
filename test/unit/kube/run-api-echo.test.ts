import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeConnection, RunApi } from '../../../src/kube/index.ts';
import { kubeAccessWithToken } from '../../env/index.ts';

// The watch echo of our own patch may reach the observer before the patch's answer does (the
// apiserver sends both at once): RunApi.isOwnWrite must still recognise it.
describe('RunApi own-write echo', () => {
  let server: ReturnType<typeof createServer>;
  let connection: KubeConnection;
  let answer: (() => void) | undefined;

  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        // the answer waits until the test has seen the "echo"
        answer = () =>
          res
            .writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify({ metadata: { uid: 'u-1', resourceVersion: '42' } }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    connection = new KubeConnection({
      access: kubeAccessWithToken(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, 't'),
    });
  });
  afterAll(async () => {
    await connection.close();
    server.close();
  });

  it('an echo seen while the patch is in flight is ours once the answer says so; another version is not', async () => {
    const runs = new RunApi({ connection });
    const key = { kind: 'TaskRun' as const, namespace: 'ns', name: 'build' };
    const patched = runs.patchAnnotations(key, { 'chains.tekton.dev/signed': 'true' }, 'u-1');
    for (const deadline = Date.now() + 5000; !answer; ) {
      if (Date.now() > deadline) throw new Error('the patch never reached the stand-in apiserver');
      await new Promise((r) => setTimeout(r, 5));
    }
    const echo = runs.isOwnWrite('u-1', '42');
    const other = runs.isOwnWrite('u-1', '43');
    answer?.();
    await patched;
    expect(await echo).toBe(true);
    expect(await other).toBe(false);
    // an echo comes once
    expect(await runs.isOwnWrite('u-1', '42')).toBe(false);
  });
});
