import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LEGACY_OBSERVER_FINALIZERS, OBSERVER_FINALIZER } from '../../src/kube/index.ts';
import { digestTag, RegistryClient } from '../../src/oci/index.ts';
import { kubeConfigFor, type LocalEnv, loadLocalEnv } from '../env/index.ts';
import { startTestObserver, type TestObserver } from '../helpers/observer.ts';
import {
  completeBuildTaskRun,
  createRun,
  deleteRun,
  findRun,
  setRunStatus,
  succeededTaskRunStatus,
  waitFor,
} from '../helpers/tekton.ts';
import { pushTestImage } from '../helpers/test-image.ts';

// Runs deleted right after they completed (issue 10): captured at first sight (the watch's
// DELETED event carries the final object), then attested from the copy, with the observer busy
// (one worker, a backlog queued in front). Deleted while no observer runs: finalizer mode.

const admin = () => kubeConfigFor('admin');
const ns = 'tenant-a';

/** Layers of the image's `.att` (0 when there is none). */
async function attLayers(env: LocalEnv, repository: string, digest: string): Promise<number> {
  const client = new RegistryClient({ registry: env.registry, insecure: true });
  const manifest = await client.getManifest(repository, digestTag(digest, '.att'));
  if (!manifest) return 0;
  return (JSON.parse(Buffer.from(manifest.bytes).toString()) as { layers: unknown[] }).layers.length;
}

async function attestedInIndex(obs: TestObserver, kind: 'TaskRun' | 'PipelineRun', name: string) {
  return waitFor(`${kind} ${name} attested in the index`, async () => {
    const [state] = await obs.observer.index.findRunRecords({ kind, namespace: ns, name });
    return state?.status === 'attested' ? state : undefined;
  });
}

/** Whether the observer logged that it attested `name` while the run was gone (from its copy). */
const attestedWhileGone = (obs: TestObserver, name: string) =>
  obs
    .logs()
    .split('\n')
    .some((l) => l.includes(`"name":"${name}"`) && l.includes('the run is gone; not marking it'));

describe('runs deleted right after they completed (real cluster and registry)', () => {
  let env: LocalEnv;
  let obs: TestObserver | undefined;
  beforeAll(() => {
    env = loadLocalEnv();
  });
  afterEach(async () => {
    await obs?.stop();
    obs = undefined;
  });

  it('a TaskRun and a PipelineRun with its children, deleted behind a backlog, are attested from their copies', async () => {
    const id = Date.now().toString(36);
    obs = await startTestObserver(env, {
      'controller.workers': '1',
      'artifacts.pipelinerun.format': 'in-toto',
      'artifacts.pipelinerun.enable-deep-inspection': 'true',
      'artifacts.pipelinerun.child-wait-seconds': '0',
    });
    // the backlog: one worker, 12 runs queued in front of the ones that get deleted
    const busy = await pushTestImage(env.registry, `deleted/busy-${id}`, 'v1');
    for (let i = 0; i < 12; i++) await completeBuildTaskRun(busy, { name: `busy-${id}-${i}` });

    const taskImage = await pushTestImage(env.registry, `deleted/task-${id}`, 'v1');
    const taskRun = await completeBuildTaskRun(taskImage, { name: `gone-${id}` });
    await deleteRun(admin(), 'TaskRun', ns, taskRun);

    const pr = await completeAndDeletePipelineRun(env, `gone-pr-${id}`);

    expect((await attestedInIndex(obs, 'TaskRun', taskRun)).status).toBe('attested');
    expect(await attLayers(env, `deleted/task-${id}`, taskImage.digest)).toBe(1);
    expect(attestedWhileGone(obs, taskRun)).toBe(true);

    const state = await attestedInIndex(obs, 'PipelineRun', pr.name);
    expect(state.status).toBe('attested');
    expect(attestedWhileGone(obs, pr.name)).toBe(true);
    // the PipelineRun's statement names both children, read from their copies
    const [summary] = await obs.observer.index.findByRun({
      kind: 'PipelineRun',
      namespace: ns,
      name: pr.name,
    });
    const envelope = await obs.observer.index.getEnvelope(summary.id);
    const statement = JSON.parse(Buffer.from(envelope?.payload ?? '', 'base64').toString());
    const tasks = (statement.predicate.buildConfig.tasks as { name: string }[]).map((t) => t.name);
    expect(tasks).toEqual(['clone', 'build']);
    expect(await attLayers(env, pr.repository, pr.digest)).toBeGreaterThanOrEqual(1);
    for (const child of pr.children)
      expect((await attestedInIndex(obs, 'TaskRun', child)).status).toBe('attested');
    // leave no backlog for the next observer (a fresh index would attest these runs again)
    for (let i = 0; i < 12; i++) await deleteRun(admin(), 'TaskRun', ns, `busy-${id}-${i}`);
  }, 120_000);

  it('finalizer mode: a run that completes and is deleted while the observer is down is attested when it is back', async () => {
    const id = Date.now().toString(36);
    const config = { 'observer.finalizers': 'true' };
    const image = await pushTestImage(env.registry, `deleted/held-${id}`, 'v1');
    const name = `held-${id}`;
    obs = await startTestObserver(env, config);
    // a tenant's own finalizer must survive ours being added and removed
    const tenantFinalizer = 'example.com/tenant-hold';
    await createRun(
      kubeConfigFor('tenantA'),
      'TaskRun',
      ns,
      name,
      { taskRef: { name: 'buildah' } },
      {
        finalizers: [tenantFinalizer],
      },
    );
    await waitFor(`${OBSERVER_FINALIZER} on ${name}`, async () =>
      (await findRun(admin(), 'TaskRun', ns, name))?.metadata.finalizers?.includes(OBSERVER_FINALIZER)
        ? true
        : undefined,
    );
    // stopping twice is one stop (the second waits for the first)
    await Promise.all([obs.stop(), obs.stop()]);
    await obs.stop();
    obs = undefined;

    await setRunStatus(
      admin(),
      'TaskRun',
      ns,
      name,
      succeededTaskRunStatus([
        { name: 'IMAGE_URL', value: image.ref },
        { name: 'IMAGE_DIGEST', value: image.digest },
      ]),
    );
    await deleteRun(admin(), 'TaskRun', ns, name);
    const held = await findRun(admin(), 'TaskRun', ns, name);
    expect(held?.metadata.deletionTimestamp).toBeDefined(); // Terminating, held by the finalizers
    expect(held?.metadata.finalizers).toEqual([tenantFinalizer, OBSERVER_FINALIZER]);

    obs = await startTestObserver(env, config);
    // captured → our finalizer removed; the tenant's stays (so the run is still there, Terminating)
    await waitFor(`${OBSERVER_FINALIZER} removed from ${name}`, async () => {
      const run = await findRun(admin(), 'TaskRun', ns, name);
      return run && !run.metadata.finalizers?.includes(OBSERVER_FINALIZER) ? run : undefined;
    }).then((run) => expect(run.metadata.finalizers).toEqual([tenantFinalizer]));
    expect((await obs.observer.index.findCapturedRun({ kind: 'TaskRun', namespace: ns, name }))?.uid).toBe(
      held?.metadata.uid,
    );
    // the tenant lets go → the run is gone → attested from its copy
    await removeFinalizers(name);
    await waitFor(`${name} gone`, async () =>
      (await findRun(admin(), 'TaskRun', ns, name)) ? undefined : true,
    );
    expect((await attestedInIndex(obs, 'TaskRun', name)).status).toBe('attested');
    expect(await attLayers(env, `deleted/held-${id}`, image.digest)).toBe(1);
  }, 120_000);

  it('upgrade: a run held under the old finalizer name (chains.tekton.dev/provenance-observer) is let go and attested, nothing left behind', async () => {
    const id = Date.now().toString(36);
    const image = await pushTestImage(env.registry, `deleted/legacy-${id}`, 'v1');
    const name = `legacy-${id}`;
    const [legacy] = LEGACY_OBSERVER_FINALIZERS as [string];
    // as an older observer left it: held under the old name, finished and deleted while none ran
    await createRun(admin(), 'TaskRun', ns, name, { taskRef: { name: 'buildah' } }, { finalizers: [legacy] });
    await setRunStatus(
      admin(),
      'TaskRun',
      ns,
      name,
      succeededTaskRunStatus([
        { name: 'IMAGE_URL', value: image.ref },
        { name: 'IMAGE_DIGEST', value: image.digest },
      ]),
    );
    await deleteRun(admin(), 'TaskRun', ns, name);
    expect((await findRun(admin(), 'TaskRun', ns, name))?.metadata.finalizers).toEqual([legacy]);

    obs = await startTestObserver(env, { 'observer.finalizers': 'true' });
    await waitFor(`${name} gone`, async () =>
      (await findRun(admin(), 'TaskRun', ns, name)) ? undefined : true,
    );
    expect((await attestedInIndex(obs, 'TaskRun', name)).status).toBe('attested');
    expect(await attLayers(env, `deleted/legacy-${id}`, image.digest)).toBe(1);
  }, 120_000);
});

async function removeFinalizers(name: string): Promise<void> {
  const { CustomObjectsApi, PatchStrategy, setHeaderOptions } = await import('@kubernetes/client-node');
  await admin()
    .makeApiClient(CustomObjectsApi)
    .patchNamespacedCustomObject(
      {
        group: 'tekton.dev',
        version: 'v1',
        namespace: ns,
        plural: 'taskruns',
        name,
        body: { metadata: { finalizers: null } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
}

/** A PipelineRun with a clone and a build child, completed, then deleted with its children at once. */
async function completeAndDeletePipelineRun(env: LocalEnv, name: string) {
  const tenant = kubeConfigFor('tenantA');
  const repository = `deleted/${name}`;
  const image = await pushTestImage(env.registry, repository, 'v1');
  const created = await createRun(tenant, 'PipelineRun', ns, name, { pipelineRef: { name: 'docker-build' } });
  const owner = { apiVersion: 'tekton.dev/v1', kind: 'PipelineRun', name, uid: created.metadata.uid };
  const children = [`${name}-clone`, `${name}-build`];
  const results = [
    [
      { name: 'url', value: 'https://github.com/example/app' },
      { name: 'commit', value: '0123456789abcdef0123456789abcdef01234567' },
    ],
    [
      { name: 'IMAGE_URL', value: image.ref },
      { name: 'IMAGE_DIGEST', value: image.digest },
    ],
  ];
  for (const [i, child] of children.entries()) {
    const task = i === 0 ? 'clone' : 'build';
    await createRun(
      tenant,
      'TaskRun',
      ns,
      child,
      { taskRef: { name: task } },
      {
        labels: { 'tekton.dev/pipelineRun': name, 'tekton.dev/pipelineTask': task },
        ownerReferences: [owner],
      },
    );
    await setRunStatus(admin(), 'TaskRun', ns, child, succeededTaskRunStatus(results[i]));
  }
  await setRunStatus(admin(), 'PipelineRun', ns, name, {
    conditions: [{ type: 'Succeeded', status: 'True', reason: 'Succeeded' }],
    startTime: '2026-11-26T10:00:00Z',
    // a second after the children were created: the completion second itself is not "before"
    completionTime: new Date(Date.now() + 1000).toISOString().replace(/\.\d+Z$/, 'Z'),
    pipelineSpec: {
      tasks: [
        { name: 'clone', taskRef: { name: 'git-clone' } },
        { name: 'build', runAfter: ['clone'], taskRef: { name: 'buildah' } },
      ],
    },
    childReferences: children.map((c, i) => ({
      apiVersion: 'tekton.dev/v1',
      kind: 'TaskRun',
      name: c,
      pipelineTaskName: i === 0 ? 'clone' : 'build',
    })),
    results: [
      { name: 'IMAGE_URL', value: image.ref },
      { name: 'IMAGE_DIGEST', value: image.digest },
    ],
  });
  // deleted at once, the children too (no garbage collector runs in the test cluster)
  await deleteRun(admin(), 'PipelineRun', ns, name);
  for (const child of children) await deleteRun(admin(), 'TaskRun', ns, child);
  return { name, repository, digest: image.digest, children };
}
