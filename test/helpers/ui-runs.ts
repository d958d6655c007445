import type { LocalEnv } from '../env/index.ts';
import { kubeConfigFor } from '../env/index.ts';
import type { TestObserver } from './observer.ts';
import { createRun, setRunStatus, succeededTaskRunStatus, waitFor, waitForSigned } from './tekton.ts';
import { pushTestImage } from './test-image.ts';

/** The index id of the newest attestation of a run, once recorded. */
export function attestationIdOf(
  obs: TestObserver,
  kind: 'TaskRun' | 'PipelineRun',
  namespace: string,
  name: string,
) {
  return waitFor(`the index record of ${kind} ${namespace}/${name}`, async () => {
    const found = await obs.observer.index.findByRun({ kind, namespace, name });
    return found[0]?.id;
  });
}

/**
 * A tenant-a TaskRun that built `images` images (IMAGES result, one pushed image each) plus a
 * BAD_IMAGE_URL/BAD_IMAGE_DIGEST pair whose digest is not hex (skipped: digest_invalid), attested.
 */
export async function attestedTaskRun(env: LocalEnv, obs: TestObserver, name: string, images = 1) {
  const repository = `e2e/${name}`;
  const pushed = await Promise.all(
    // one repository per image: subjects are merged by name
    Array.from({ length: images }, (_, i) => pushTestImage(env.registry, `${repository}-${i}`, 'v1')),
  );
  await createRun(kubeConfigFor('tenantA'), 'TaskRun', 'tenant-a', name, { taskRef: { name: 'buildah' } });
  const results =
    images === 1
      ? [
          { name: 'IMAGE_URL', value: pushed[0].ref },
          { name: 'IMAGE_DIGEST', value: pushed[0].digest },
        ]
      : [{ name: 'IMAGES', value: pushed.map((p) => `${p.ref.replace(/:v1$/, '')}@${p.digest}`).join('\n') }];
  await setRunStatus(
    kubeConfigFor('admin'),
    'TaskRun',
    'tenant-a',
    name,
    succeededTaskRunStatus([
      ...results,
      { name: 'BAD_IMAGE_URL', value: `${env.registry}/${repository}:bad` },
      { name: 'BAD_IMAGE_DIGEST', value: 'sha256:not-a-digest' },
    ]),
  );
  await waitForSigned('TaskRun', 'tenant-a', name);
  const id = await attestationIdOf(obs, 'TaskRun', 'tenant-a', name);
  return { name, id, repository, images: pushed, image: pushed[0] };
}

/** A tenant-a PipelineRun whose `build` task (a child TaskRun) built the image it reports. */
export async function attestedPipelineRun(env: LocalEnv, obs: TestObserver, pr: string) {
  const tenant = kubeConfigFor('tenantA');
  const admin = kubeConfigFor('admin');
  const image = await pushTestImage(env.registry, `e2e/${pr}`, 'v1');
  const created = await createRun(tenant, 'PipelineRun', 'tenant-a', pr, {
    pipelineRef: { name: 'docker-build' },
  });
  const child = `${pr}-build`;
  const owner = { apiVersion: 'tekton.dev/v1', kind: 'PipelineRun', name: pr, uid: created.metadata.uid };
  await createRun(
    tenant,
    'TaskRun',
    'tenant-a',
    child,
    { taskRef: { name: 'buildah' } },
    {
      labels: { 'tekton.dev/pipelineRun': pr, 'tekton.dev/pipelineTask': 'build' },
      ownerReferences: [owner],
    },
  );
  const imageResults = [
    { name: 'IMAGE_URL', value: image.ref },
    { name: 'IMAGE_DIGEST', value: image.digest },
  ];
  await setRunStatus(admin, 'TaskRun', 'tenant-a', child, succeededTaskRunStatus(imageResults));
  await setRunStatus(admin, 'PipelineRun', 'tenant-a', pr, {
    conditions: [{ type: 'Succeeded', status: 'True', reason: 'Succeeded' }],
    startTime: '2026-11-26T10:00:00Z',
    completionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    pipelineSpec: { tasks: [{ name: 'build', taskRef: { name: 'buildah' } }] },
    childReferences: [
      { apiVersion: 'tekton.dev/v1', kind: 'TaskRun', name: child, pipelineTaskName: 'build' },
    ],
    results: imageResults,
  });
  await waitForSigned('PipelineRun', 'tenant-a', pr);
  await waitForSigned('TaskRun', 'tenant-a', child);
  const id = await attestationIdOf(obs, 'PipelineRun', 'tenant-a', pr);
  return { pr, child, id, image };
}
