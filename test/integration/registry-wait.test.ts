import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeConfigFor, type LocalEnv, loadLocalEnv } from '../env/index.ts';
import { type FailingFront, startFailingFront } from '../helpers/failing-front.ts';
import { startTestObserver, type TestObserver } from '../helpers/observer.ts';
import { completeBuildTaskRun, getRun, runEvents, waitFor, waitForSigned } from '../helpers/tekton.ts';
import { pushTestImage } from '../helpers/test-image.ts';

const SIGNED = 'chains.tekton.dev/signed';
const WAIT_SECONDS = 60; // attestation.registry-wait-seconds, shortened from 6 h to its lowest value

const metric = async (obs: TestObserver, name: string, labels: string) => {
  const text = await (await fetch(`${obs.observer.address}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(' ').pop()) : 0;
};

/**
 * Issue 26, item 7: deferral ends. Two registries answer 500 to everything; one recovers after 20 s,
 * the other never does. Both runs' attempts are deferred while the hosts' circuits are open, not
 * counted (three failed attempts would fail a run in about 7 s otherwise): the outage fails no run,
 * and the registry that never recovers fails its run after the wait, not never.
 */
describe('a run waiting on a registry that stays down (attestation.registry-wait-seconds)', () => {
  let env: LocalEnv;
  let obs: TestObserver;
  let recovering: FailingFront;
  let neverUp: FailingFront;
  beforeAll(async () => {
    env = loadLocalEnv();
    recovering = await startFailingFront(env.registry);
    neverUp = await startFailingFront(env.registry);
    obs = await startTestObserver(env, {
      'attestation.max-attempts': '3',
      'attestation.registry-wait-seconds': String(WAIT_SECONDS),
      'storage.oci.circuit-breaker.failures': '2',
      'storage.oci.circuit-breaker.cool-down-seconds': '2',
      'storage.oci.insecure-registries': `${env.registry},${recovering.host},${neverUp.host}`,
    });
  });
  afterAll(async () => {
    await obs?.stop();
    recovering?.close();
    neverUp?.close();
  });

  it('an outage of 20 s fails no run; a registry that never recovers fails its run with registry_unavailable after the wait', async () => {
    const stamp = Date.now();
    const pushed = await Promise.all([
      pushTestImage(env.registry, `outage/short-${stamp}`),
      pushTestImage(env.registry, `outage/never-${stamp}`),
    ]);
    const [shortImage, neverImage] = pushed.map((image, i) => ({
      digest: image.digest,
      ref: `${[recovering, neverUp][i]?.host}/outage/${i === 0 ? 'short' : 'never'}-${stamp}:latest`,
    }));
    const started = Date.now();
    const short = await completeBuildTaskRun(shortImage as { ref: string; digest: string }, {
      name: `outage-short-${stamp}`,
    });
    const never = await completeBuildTaskRun(neverImage as { ref: string; digest: string }, {
      name: `outage-never-${stamp}`,
    });

    // the short outage: deferred while down, signed once the registry answers again
    await waitFor('the short outage deferred', async () => {
      const reasons = (await runEvents(kubeConfigFor('admin'), 'tenant-a', short)).map((e) => e.reason);
      return reasons.includes('AttestationDeferred') ? reasons : undefined;
    });
    await new Promise((r) => setTimeout(r, Math.max(0, started + 20_000 - Date.now())));
    expect(
      (await getRun(kubeConfigFor('admin'), 'TaskRun', 'tenant-a', short)).metadata.annotations?.[SIGNED],
    ).toBe(undefined);
    recovering.up();
    const signed = await waitForSigned('TaskRun', 'tenant-a', short);
    expect(signed.metadata.annotations?.[SIGNED]).toBe('true');
    expect(recovering.failed()).toBeGreaterThan(0);

    // the registry that never recovers: still pending before the wait, failed after it
    const before = await getRun(kubeConfigFor('admin'), 'TaskRun', 'tenant-a', never);
    expect(before.metadata.annotations?.[SIGNED]).toBe(undefined);
    const failed = await waitFor(
      'signed=failed after the registry wait',
      async () => {
        const r = await getRun(kubeConfigFor('admin'), 'TaskRun', 'tenant-a', never);
        return r.metadata.annotations?.[SIGNED] === 'failed' ? r : undefined;
      },
      (WAIT_SECONDS + 60) * 1000,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(WAIT_SECONDS * 1000);
    expect(failed.metadata.annotations?.[SIGNED]).toBe('failed');
    const events = await waitFor('the AttestationFailed event', async () => {
      const all = await runEvents(kubeConfigFor('admin'), 'tenant-a', never);
      return all.some((e) => e.reason === 'AttestationFailed') ? all : undefined;
    });
    expect(events.find((e) => e.reason === 'AttestationFailed')?.message).toContain('registry_unavailable');
    expect(await metric(obs, 'provenance_observer_registry_wait_expired_total', 'kind="TaskRun"')).toBe(1);
  }, 240_000);
});
