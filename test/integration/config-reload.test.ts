import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalEnv, loadLocalEnv } from '../env/index.ts';
import { startTestObserver, type TestObserver } from '../helpers/observer.ts';
import { completeBuildTaskRun, waitFor, waitForSigned } from '../helpers/tekton.ts';
import { pushTestImage } from '../helpers/test-image.ts';

/**
 * Writes `data` into `dir` as the kubelet updates a mounted ConfigMap: a fresh timestamped
 * directory, `..data` re-pointed to it by renaming a new symlink over it (atomic), each key a
 * symlink `key -> ..data/key`, a removed key's symlink deleted (kubernetes pkg/volume/util/atomic_writer.go).
 */
function writeConfigMapVolume(dir: string, data: Record<string, string>, generation: number): void {
  const version = `..2026_11_27_${generation}`;
  mkdirSync(join(dir, version));
  for (const [key, value] of Object.entries(data)) writeFileSync(join(dir, version, key), value);
  let old: string | undefined;
  try {
    old = readlinkSync(join(dir, '..data'));
  } catch {}
  symlinkSync(version, join(dir, '..data_tmp'));
  renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
  for (const key of Object.keys(data)) {
    try {
      symlinkSync(join('..data', key), join(dir, key));
    } catch {}
  }
  // keys no longer in the ConfigMap lose their symlink, as the kubelet does
  for (const name of readdirSync(dir)) if (!name.startsWith('.') && !(name in data)) rmSync(join(dir, name));
  if (old) rmSync(join(dir, old), { recursive: true });
}

// issue 12 point 5: a changed ConfigMap takes effect without a restart, observed in what is
// attested; an invalid change is rejected and the last good config keeps attesting.
describe('config reload from a mounted ConfigMap directory', () => {
  let env: LocalEnv;
  let obs: TestObserver;
  const dir = mkdtempSync(join(tmpdir(), 'configmap-'));

  beforeAll(async () => {
    env = loadLocalEnv();
    writeConfigMapVolume(dir, { 'artifacts.taskrun.format': 'slsa/v1.0' }, 1);
    obs = await startTestObserver(env, {}, undefined, { configDir: dir });
  });
  afterAll(async () => obs?.stop());

  async function attestedPredicateType(tag: string): Promise<string> {
    const image = await pushTestImage(env.registry, `e2e/reload-${tag}-${Date.now()}`, 'v1');
    const name = await completeBuildTaskRun(image, { name: `reload-${tag}-${Date.now()}` });
    const run = await waitForSigned('TaskRun', 'tenant-a', name);
    const payload = run.metadata.annotations?.[`chains.tekton.dev/payload-taskrun-${run.metadata.uid}`];
    expect(payload).toBeDefined();
    return JSON.parse(Buffer.from(payload ?? '', 'base64').toString()).predicateType;
  }
  const reloads = async (result: string) =>
    (await obs.metrics.configReloads.get()).values.find((v) => v.labels.result === result)?.value ?? 0;
  const readyz = async () => {
    const res = await fetch(`${obs.observer.address}/readyz`);
    return {
      status: res.status,
      body: (await res.json()) as { checks: Record<string, { message?: string }> },
    };
  };

  it('applies a valid change live and rejects an invalid one, keeping the last good config', async () => {
    expect(await attestedPredicateType('v1')).toBe('https://slsa.dev/provenance/v1');

    writeConfigMapVolume(dir, { 'artifacts.taskrun.format': 'slsa/v0.2' }, 2);
    await waitFor(
      'the change applied',
      async () => ((await reloads('applied')) >= 1 ? true : undefined),
      15_000,
    );
    expect(await attestedPredicateType('v02')).toBe('https://slsa.dev/provenance/v0.2');

    writeConfigMapVolume(dir, { 'artifacts.taskrun.format': 'slsa/v1.0', 'transparency.enabled': 'yes' }, 3);
    await waitFor(
      'the change rejected',
      async () => ((await reloads('invalid')) >= 1 ? true : undefined),
      15_000,
    );
    expect(obs.logs()).toMatch(/config change rejected[^\n]*transparency\.enabled/);
    const ready = await readyz();
    expect(ready.status).toBe(200);
    expect(ready.body.checks.config?.message).toMatch(/rejected.*transparency\.enabled/);
    // the last good config (v0.2) still attests
    expect(await attestedPredicateType('kept')).toBe('https://slsa.dev/provenance/v0.2');

    // a restart-only key is reported, its running value kept
    writeConfigMapVolume(dir, { 'artifacts.taskrun.format': 'slsa/v0.2', 'controller.workers': '7' }, 4);
    await waitFor(
      'restart reported',
      async () =>
        (await readyz()).body.checks.config?.message?.includes('controller.workers') ? true : undefined,
      15_000,
    );
    expect((await obs.metrics.configRestartNeeded.get()).values[0]?.value).toBe(1);
  }, 120_000);
});
