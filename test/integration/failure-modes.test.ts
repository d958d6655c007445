import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { kubeAccessWithToken, kubeConfigFor, type LocalEnv, loadLocalEnv } from '../env/index.ts';
import { startTestObserver, type TestObserver } from '../helpers/observer.ts';
import { tcpForwarder } from '../helpers/tcp-forwarder.ts';
import { completeBuildTaskRun, getRun, runEvents, waitFor, waitForSigned } from '../helpers/tekton.ts';
import { pushTestImage } from '../helpers/test-image.ts';

const SIGNED = 'chains.tekton.dev/signed';
const metric = async (obs: TestObserver, name: string, labels: string) => {
  const text = await (await fetch(`${obs.observer.address}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(' ').pop()) : 0;
};

describe('failure modes on the real cluster and registry', () => {
  let env: LocalEnv;
  let obs: TestObserver | undefined;
  beforeAll(() => {
    env = loadLocalEnv();
  });
  afterEach(async () => {
    await obs?.stop();
    obs = undefined;
  });

  it('a run a tenant created already annotated signed=true is attested anyway, and the mismatch reported', async () => {
    // the Normal Attested Event too (off by default), to show both Events side by side
    obs = await startTestObserver(env, { 'observer.success-events': 'true' });
    const image = await pushTestImage(env.registry, `tamper/app-${Date.now()}`);
    const name = await completeBuildTaskRun(image, {
      name: `forged-${Date.now()}`,
      annotations: { [SIGNED]: 'true' },
    });
    const reasons = await waitFor('the Attested event', async () => {
      const r = (await runEvents(kubeConfigFor('admin'), 'tenant-a', name)).map((e) => e.reason);
      return r.includes('Attested') ? r : undefined;
    });
    expect(reasons).toContain('AnnotationMismatch');
    const run = await getRun(kubeConfigFor('admin'), 'TaskRun', 'tenant-a', name);
    expect(run.metadata.annotations?.[`chains.tekton.dev/payload-taskrun-${run.metadata.uid}`]).toBeDefined();
    expect(run.metadata.annotations?.[SIGNED]).toBe('true');
    expect(
      await metric(
        obs,
        'provenance_observer_tamper_mismatches_total',
        'kind="TaskRun",reason="signed_without_record"',
      ),
    ).toBeGreaterThanOrEqual(1);
  });

  it('a registry that is down: retried, then signed=failed with an Event naming the registry; never signed=true', async () => {
    obs = await startTestObserver(env, {
      'attestation.max-attempts': '2',
      'storage.oci.insecure-registries': `${env.registry},127.0.0.1:9`,
    });
    const digest = `sha256:${'d'.repeat(64)}`;
    const name = await completeBuildTaskRun(
      { ref: '127.0.0.1:9/down/app:v1', digest },
      { name: `down-${Date.now()}` },
    );
    const run = await waitFor('signed=failed', async () => {
      const r = await getRun(kubeConfigFor('admin'), 'TaskRun', 'tenant-a', name);
      return r.metadata.annotations?.[SIGNED] === 'failed' ? r : undefined;
    });
    expect(run.metadata.annotations?.['chains.tekton.dev/retries']).toBe('2');
    // the Event follows the annotation
    const events = await waitFor('the AttestationFailed event', async () => {
      const all = await runEvents(kubeConfigFor('admin'), 'tenant-a', name);
      return all.some((e) => e.reason === 'AttestationFailed') ? all : undefined;
    });
    expect(events.find((e) => e.reason === 'AttestationFailed')?.message).toContain('127.0.0.1:9');
    expect(events.map((e) => e.reason)).toContain('AttestationRetrying');
    expect(
      await metric(obs, 'provenance_observer_runs_failed_total', 'kind="TaskRun"'),
    ).toBeGreaterThanOrEqual(1);
  });
});

/** A TCP proxy in front of the apiserver whose connections a test can cut. */
async function cuttableProxy(target: URL): Promise<{ url: string; cut: () => void; close: () => void }> {
  const forwarder = await tcpForwarder(target.hostname, Number(target.port));
  return { ...forwarder, url: `https://127.0.0.1:${forwarder.port}` };
}

describe('the watch survives a dropped connection to the real apiserver', () => {
  let env: LocalEnv;
  let obs: TestObserver;
  let proxy: Awaited<ReturnType<typeof cuttableProxy>>;
  beforeAll(async () => {
    env = loadLocalEnv();
    proxy = await cuttableProxy(new URL(env.apiserver));
    obs = await startTestObserver(env, {}, kubeAccessWithToken(proxy.url, env.tokens.observer));
  });
  afterAll(async () => {
    await obs?.stop();
    proxy?.close();
  });

  it('attests a run completed after every connection was cut', async () => {
    const first = await completeBuildTaskRun(await pushTestImage(env.registry, `watch/a-${Date.now()}`), {
      name: `before-cut-${Date.now()}`,
    });
    await waitForSigned('TaskRun', 'tenant-a', first);
    proxy.cut();
    const second = await completeBuildTaskRun(await pushTestImage(env.registry, `watch/b-${Date.now()}`), {
      name: `after-cut-${Date.now()}`,
    });
    await waitForSigned('TaskRun', 'tenant-a', second);
  });
});
