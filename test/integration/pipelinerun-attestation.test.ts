import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/oci/index.ts';
import { kubeConfigFor, type LocalEnv, loadLocalEnv } from '../env/index.ts';
import { startTestObserver, type TestObserver } from '../helpers/observer.ts';
import { opensslVerifiesEnvelope } from '../helpers/openssl-dsse.ts';
import {
  createRun,
  runEvents,
  setRunStatus,
  succeededTaskRunStatus,
  waitForSigned,
} from '../helpers/tekton.ts';
import { pushTestImage } from '../helpers/test-image.ts';

const COMMIT = '0123456789abcdef0123456789abcdef01234567';

/** A PipelineRun with a git-clone and a build child, plus a child that was deleted before we saw it. */
async function completePipelineRun(env: LocalEnv, prefix: string) {
  const admin = kubeConfigFor('admin');
  const tenant = kubeConfigFor('tenantA');
  const repository = `e2e/${prefix}`;
  const image = await pushTestImage(env.registry, repository, 'v1');
  const pr = `${prefix}-pr`;
  const children = { clone: `${pr}-clone`, build: `${pr}-build`, gone: `${pr}-scan` };
  // Tekton creates the PipelineRun's children owned by it (checked: docs/security.md)
  const created = await createRun(tenant, 'PipelineRun', 'tenant-a', pr, {
    pipelineRef: { name: 'docker-build' },
    taskRunTemplate: { serviceAccountName: 'pipeline' },
  });
  const owner = { apiVersion: 'tekton.dev/v1', kind: 'PipelineRun', name: pr, uid: created.metadata.uid };
  const labels = (task: string) => ({
    labels: { 'tekton.dev/pipelineRun': pr, 'tekton.dev/pipelineTask': task, 'tekton.dev/task': task },
    ownerReferences: [owner],
  });
  await createRun(
    tenant,
    'TaskRun',
    'tenant-a',
    children.clone,
    { taskRef: { name: 'git-clone' } },
    labels('clone'),
  );
  await setRunStatus(
    admin,
    'TaskRun',
    'tenant-a',
    children.clone,
    succeededTaskRunStatus([
      { name: 'url', value: 'https://github.com/example/app' },
      { name: 'commit', value: COMMIT },
    ]),
  );
  await createRun(
    tenant,
    'TaskRun',
    'tenant-a',
    children.build,
    { taskRef: { name: 'buildah' } },
    labels('build'),
  );
  await setRunStatus(
    admin,
    'TaskRun',
    'tenant-a',
    children.build,
    succeededTaskRunStatus([
      { name: 'IMAGE_URL', value: image.ref },
      { name: 'IMAGE_DIGEST', value: image.digest },
    ]),
  );
  // a second after the children were created: a child created in the completion second is not
  // trusted unless seen finished before it (created_after_completion)
  const completionTime = new Date(Date.now() + 1000).toISOString().replace(/\.\d+Z$/, 'Z');
  await setRunStatus(admin, 'PipelineRun', 'tenant-a', pr, {
    conditions: [{ type: 'Succeeded', status: 'True', reason: 'Succeeded' }],
    startTime: '2026-11-26T10:00:00Z',
    // after its children were created: a child created later would not count
    completionTime,
    pipelineSpec: {
      tasks: [
        { name: 'clone', taskRef: { name: 'git-clone' } },
        { name: 'build', runAfter: ['clone'], taskRef: { name: 'buildah' } },
        { name: 'scan', runAfter: ['build'], taskRef: { name: 'scan' } },
      ],
    },
    childReferences: [
      { apiVersion: 'tekton.dev/v1', kind: 'TaskRun', name: children.clone, pipelineTaskName: 'clone' },
      { apiVersion: 'tekton.dev/v1', kind: 'TaskRun', name: children.build, pipelineTaskName: 'build' },
      { apiVersion: 'tekton.dev/v1', kind: 'TaskRun', name: children.gone, pipelineTaskName: 'scan' },
    ],
    results: [
      { name: 'IMAGE_URL', value: image.ref },
      { name: 'IMAGE_DIGEST', value: image.digest },
      { name: 'CHAINS-GIT_URL', value: 'https://github.com/example/app' },
      { name: 'CHAINS-GIT_COMMIT', value: COMMIT },
    ],
  });
  return { pr, repository, image, completionTime };
}

/** Waits for signed=true, then returns the PipelineRun's statement as read back from the registry. */
async function attestedStatement(
  env: LocalEnv,
  obs: TestObserver,
  pr: string,
  repository: string,
  digest: string,
  predicateType: string,
) {
  const run = await waitForSigned('PipelineRun', 'tenant-a', pr);
  const client = new RegistryClient({ registry: env.registry, insecure: true });
  const manifest = await client.getManifest(repository, `${digest.replace(':', '-')}.att`);
  const layers = (JSON.parse(Buffer.from(manifest!.bytes).toString()) as { layers: { digest: string }[] })
    .layers;
  for (const layer of layers) {
    const bytes = await client.getBlob(repository, layer.digest);
    const envelope = JSON.parse(Buffer.from(bytes).toString()) as { payload: string };
    const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString());
    const ofThisRun =
      statement.predicate.buildType === 'tekton.dev/v1/PipelineRun' ||
      statement.predicate.runDetails?.metadata?.invocationId === run.metadata.uid;
    if (statement.predicateType === predicateType && ofThisRun) {
      expect(opensslVerifiesEnvelope(bytes, obs.publicKeyPem)).toBe(true);
      return { statement, uid: run.metadata.uid };
    }
  }
  throw new Error(`no ${predicateType} layer for ${pr} in ${repository}`);
}

describe('PipelineRun with children → attestation (real cluster and registry)', () => {
  let env: LocalEnv;
  let obs: TestObserver | undefined;
  beforeAll(() => {
    env = loadLocalEnv();
  });
  afterEach(async () => {
    await obs?.stop();
    obs = undefined;
  });

  it('SLSA v0.2 with deep inspection, as Konflux configures Chains', async () => {
    obs = await startTestObserver(env, {
      'artifacts.pipelinerun.format': 'in-toto',
      'artifacts.pipelinerun.enable-deep-inspection': 'true',
      'artifacts.pipelinerun.child-wait-seconds': '0',
    });
    const { pr, repository, image, completionTime } = await completePipelineRun(env, `v02-${Date.now()}`);
    const { statement } = await attestedStatement(
      env,
      obs,
      pr,
      repository,
      image.digest,
      'https://slsa.dev/provenance/v0.2',
    );
    expect(statement._type).toBe('https://in-toto.io/Statement/v0.1');
    expect(statement.predicate.buildType).toBe('tekton.dev/v1/PipelineRun');
    expect(statement.predicate.builder.id).toBe('https://tekton.dev/chains/v2');
    expect(statement.subject).toContainEqual({
      name: `${env.registry}/${repository}`,
      digest: { sha256: image.digest.slice(7) },
    });
    const tasks = statement.predicate.buildConfig.tasks as {
      name: string;
      status: string;
      steps: unknown[];
    }[];
    expect(tasks.map((t) => t.name)).toEqual(['clone', 'build']);
    expect(tasks.every((t) => t.status === 'Succeeded' && t.steps.length > 0)).toBe(true);
    expect(statement.predicate.materials).toContainEqual({
      uri: 'git+https://github.com/example/app.git',
      digest: { sha1: COMMIT },
    });
    expect(statement.predicate.metadata.buildFinishedOn).toBe(completionTime);
    // the deleted child did not block the attestation, and it is reported
    const events = await runEvents(kubeConfigFor('admin'), 'tenant-a', pr);
    expect(events.map((e) => e.message).join('\n')).toContain(`${pr}-scan`);
  });

  it('SLSA v1.0', async () => {
    obs = await startTestObserver(env, {
      'artifacts.pipelinerun.format': 'slsa/v1.0',
      'artifacts.pipelinerun.child-wait-seconds': '0',
    });
    const { pr, repository, image } = await completePipelineRun(env, `v1-${Date.now()}`);
    const { statement, uid } = await attestedStatement(
      env,
      obs,
      pr,
      repository,
      image.digest,
      'https://slsa.dev/provenance/v1',
    );
    expect(statement._type).toBe('https://in-toto.io/Statement/v1');
    expect(statement.predicate.buildDefinition.buildType).toBe('https://tekton.dev/chains/v2/slsa');
    expect(statement.predicate.buildDefinition.externalParameters.runSpec.pipelineRef).toEqual({
      name: 'docker-build',
    });
    expect(statement.predicate.runDetails.metadata.invocationId).toBe(uid);
    expect(statement.subject).toContainEqual({
      name: `${env.registry}/${repository}`,
      digest: { sha256: image.digest.slice(7) },
    });
    expect(statement.predicate.buildDefinition.resolvedDependencies).toContainEqual({
      name: 'inputs/result',
      uri: 'git+https://github.com/example/app.git',
      digest: { sha1: COMMIT },
    });
  });
});
