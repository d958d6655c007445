import { createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CoreV1Api, CustomObjectsApi, RbacAuthorizationV1Api, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordedExecutionCheck } from '../../src/attest/adopt-provenance.ts';
import { RegistryClient } from '../../src/oci/index.ts';
import { kubeConfigFor, type LocalEnv, loadLocalEnv } from '../env/index.ts';
import { putSigningSecret, startTestObserver, type TestObserver } from '../helpers/observer.ts';
import {
  completeBuildTaskRun,
  createRun,
  getRun,
  type Kind,
  runEvents,
  setRunStatus,
  succeededTaskRunStatus,
  waitFor,
  waitForSigned,
} from '../helpers/tekton.ts';
import { pushTestImage, pushTestImageWith } from '../helpers/test-image.ts';

// Each attack a tenant can try against the observer's signing key, run on the real apiserver and
// registries, with the defence's observable outcome: what is signed, what is pushed (read back from
// the registry), the Events and the provenance. docs/security.md explains each defence.

const admin = () => kubeConfigFor('admin');
const NS = '$' + '{namespace}';
const unique = (prefix: string) => `${prefix}-${Date.now()}-${randomBytes(2).toString('hex')}`;
const randomDigest = () => `sha256:${randomBytes(32).toString('hex')}`;

/** The statement the observer signed, from Chains' payload annotation on the run. */
async function signedStatement(kind: Kind, name: string) {
  const run = await getRun(admin(), kind, 'tenant-a', name);
  const payload =
    run.metadata.annotations?.[`chains.tekton.dev/payload-${kind.toLowerCase()}-${run.metadata.uid}`];
  if (!payload) throw new Error(`no payload annotation on ${kind} ${name}`);
  return JSON.parse(Buffer.from(payload, 'base64').toString()) as {
    subject: { name: string; digest: { sha256: string } }[];
    predicate: Record<string, unknown>;
  };
}

/** The run's Events with this reason, once there is one. */
function eventsWith(name: string, reason: string) {
  return waitFor(`Event ${reason} on ${name}`, async () => {
    const events = (await runEvents(admin(), 'tenant-a', name)).filter((e) => e.reason === reason);
    return events.length ? events : undefined;
  });
}

/** `.att` / `.sig` tags of a digest in a repository, as a registry client sees them. */
async function cosignTags(client: RegistryClient, repository: string, digest: string) {
  const prefix = digest.replace(':', '-');
  return (await client.listTags(repository)).filter((t) => t.startsWith(prefix));
}

/** Plays the kubelet: a Pod owned by the TaskRun, its container statuses written through pods/status. */
async function runPod(
  name: string,
  owner: { name: string; uid: string },
  imageID: string,
  ephemeral?: { name: string; imageID: string },
) {
  const core = admin().makeApiClient(CoreV1Api);
  const body: V1Pod = {
    metadata: {
      name,
      namespace: 'tenant-a',
      ownerReferences: [{ apiVersion: 'tekton.dev/v1', kind: 'TaskRun', name: owner.name, uid: owner.uid }],
    },
    spec: { containers: [{ name: 'step-build', image: 'docker.io/library/busybox' }] },
  };
  const pod = await core.createNamespacedPod({ namespace: 'tenant-a', body });
  const terminated = { terminated: { exitCode: 0, reason: 'Completed' } };
  pod.status = {
    phase: 'Succeeded',
    containerStatuses: [
      {
        name: 'step-build',
        image: 'docker.io/library/busybox',
        imageID,
        ready: false,
        restartCount: 0,
        state: terminated,
      },
    ],
    ...(ephemeral
      ? {
          ephemeralContainerStatuses: [
            {
              ...ephemeral,
              image: 'docker.io/library/alpine',
              ready: false,
              restartCount: 0,
              state: terminated,
            },
          ],
        }
      : {}),
  };
  await core.replaceNamespacedPodStatus({ name, namespace: 'tenant-a', body: pod });
}

const repoOf = (ref: string) => ref.replace(/:[^:/]+$/, '');

/** A TaskRun in tenant-a completed with this status (results, steps…), as Tekton writes it. */
async function taskRunWithStatus(name: string, status: object): Promise<string> {
  await createRun(kubeConfigFor('tenantA'), 'TaskRun', 'tenant-a', name, { taskRef: { name: 'buildah' } });
  await setRunStatus(admin(), 'TaskRun', 'tenant-a', name, status);
  return name;
}

/**
 * What every refused claim must end with: the run is signed, its statement has the run's own image
 * and nothing with the target's digest, no `.att`/`.sig` was pushed to the target's repository,
 * and an InputSkipped Event names the reason code.
 */
async function expectRefused(
  env: LocalEnv,
  kind: Kind,
  name: string,
  target: { ref: string; digest: string },
  ours: { ref: string; digest: string },
  code: string,
): Promise<void> {
  await waitForSigned(kind, 'tenant-a', name);
  const statement = await signedStatement(kind, name);
  expect(JSON.stringify(statement.subject)).not.toContain(target.digest.slice('sha256:'.length));
  expect(statement.subject).toContainEqual({
    name: repoOf(ours.ref),
    digest: { sha256: ours.digest.slice('sha256:'.length) },
  });
  const client = new RegistryClient({ registry: env.registry, insecure: true });
  const path = (ref: string) => repoOf(ref).slice(env.registry.length + 1);
  expect(await cosignTags(client, path(target.ref), target.digest)).toEqual([]);
  const events = await eventsWith(name, 'InputSkipped');
  expect(events.map((e) => e.message).join('\n')).toContain(code);
  if (kind === 'TaskRun')
    expect(await cosignTags(client, path(ours.ref), ours.digest)).toEqual(
      expect.arrayContaining([expect.stringMatching(/\.att$/), expect.stringMatching(/\.sig$/)]),
    );
}

const REPORTED = succeededTaskRunStatus([]).steps[0]!.imageID;
const OTHER = `docker.io/library/alpine@sha256:${'9'.repeat(64)}`;

/**
 * A TaskRun whose Pod ran `ranImageID` in step-build while its status reports REPORTED. `pod`:
 * the Pod's name in status.podName ('' for none), whether to create it, whose it is, and an
 * ephemeral container it also ran.
 */
async function taskRunWithPod(
  ranImageID: string,
  options: {
    podName?: (run: string) => string;
    create?: boolean;
    owner?: { name: string; uid: string };
    ephemeral?: { name: string; imageID: string };
    results?: { name: string; value: string }[];
  } = {},
): Promise<string> {
  const name = unique('exec');
  const created = await createRun(kubeConfigFor('tenantA'), 'TaskRun', 'tenant-a', name, {
    taskRef: { name: 'buildah' },
  });
  const podName = options.podName ? options.podName(name) : `${name}-pod`;
  if (options.create !== false && podName)
    await runPod(
      podName,
      options.owner ?? { name, uid: created.metadata.uid },
      ranImageID,
      options.ephemeral,
    );
  await setRunStatus(admin(), 'TaskRun', 'tenant-a', name, {
    ...succeededTaskRunStatus(options.results ?? []),
    podName,
  });
  return name;
}

/** Waits for signed=failed and returns the AttestationFailed Event's message. */
async function refusedWith(name: string): Promise<string> {
  await waitFor(`signed=failed on ${name}`, async () => {
    const run = await getRun(admin(), 'TaskRun', 'tenant-a', name);
    return run.metadata.annotations?.['chains.tekton.dev/signed'] === 'failed' ? run : undefined;
  });
  const [event] = await eventsWith(name, 'AttestationFailed');
  return event!.message ?? '';
}

/**
 * A PipelineRun in tenant-a with one child TaskRun (created by "Tekton", owned by it) that ran in a
 * Pod whose step-build ran `ranImageID`, with `results`; the PipelineRun then completes.
 */
async function pipelineRunWithChild(ranImageID: string, results: { name: string; value: unknown }[] = []) {
  const pr = unique('pr-exec');
  const created = await createRun(kubeConfigFor('tenantA'), 'PipelineRun', 'tenant-a', pr, {
    pipelineRef: { name: 'build' },
  });
  const owner = { apiVersion: 'tekton.dev/v1', kind: 'PipelineRun', name: pr, uid: created.metadata.uid };
  const child = `${pr}-build`;
  const made = await createRun(
    admin(),
    'TaskRun',
    'tenant-a',
    child,
    { taskRef: { name: 'buildah' } },
    { ownerReferences: [owner], labels: { 'tekton.dev/pipelineTask': 'build' } },
  );
  await runPod(`${child}-pod`, { name: child, uid: made.metadata.uid }, ranImageID);
  await setRunStatus(admin(), 'TaskRun', 'tenant-a', child, {
    ...succeededTaskRunStatus(results),
    podName: `${child}-pod`,
  });
  const done = new Date(Date.now() + 2000).toISOString().replace(/\.\d+Z$/, 'Z');
  await setRunStatus(admin(), 'PipelineRun', 'tenant-a', pr, {
    conditions: [{ type: 'Succeeded', status: 'True', reason: 'Succeeded' }],
    startTime: done,
    completionTime: done,
    childReferences: [
      { apiVersion: 'tekton.dev/v1', kind: 'TaskRun', name: child, pipelineTaskName: 'build' },
    ],
    pipelineSpec: { tasks: [{ name: 'build', taskRef: { name: 'buildah' } }] },
  });
  return { pr, child };
}

describe('tenant attacks, with a subject policy (execution check: record)', () => {
  let env: LocalEnv;
  let obs: TestObserver;
  let tokenClient: RegistryClient;

  beforeAll(async () => {
    env = loadLocalEnv();
    const { address, username, password } = env.tokenRegistry;
    tokenClient = new RegistryClient({
      registry: address,
      insecure: true,
      credentials: { kind: 'basic', username, password },
    });
    obs = await startTestObserver(
      env,
      {
        'attestation.subject-policy': `rules:\n  - name: own-repositories\n    namespaces: [tenant-a, tenant-b]\n    repositories: ["${env.registry}/${NS}/**"]\n`,
        'attestation.execution-check': 'record',
        'artifacts.pipelinerun.format': 'slsa/v0.2',
        'artifacts.pipelinerun.enable-deep-inspection': 'true',
      },
      undefined,
      // the observer itself can push to the token registry
      { dockerConfig: { auths: { [address]: { username, password } } } },
    );
  });
  afterAll(async () => obs?.stop());

  it("A claims B's image: not signed, nothing pushed to B's repository, InputSkipped repository_not_allowed", async () => {
    const theirs = await pushTestImage(env.registry, `tenant-b/${unique('app')}`);
    const ours = await pushTestImage(env.registry, `tenant-a/${unique('app')}`);
    const name = await completeBuildTaskRun(ours, {
      name: unique('claim-b'),
      extraResults: [
        { name: 'OTHER_IMAGE_URL', value: theirs.ref },
        { name: 'OTHER_IMAGE_DIGEST', value: theirs.digest },
      ],
    });
    await waitForSigned('TaskRun', 'tenant-a', name);
    const statement = await signedStatement('TaskRun', name);
    const theirRepo = theirs.ref.replace(/:[^:/]+$/, '');
    expect(statement.subject.map((s) => s.name)).toEqual([ours.ref.replace(/:[^:/]+$/, '')]);
    const client = new RegistryClient({ registry: env.registry, insecure: true });
    expect(await cosignTags(client, theirRepo.slice(env.registry.length + 1), theirs.digest)).toEqual([]);
    // the legitimate subject is attested as before
    expect(
      await cosignTags(client, ours.ref.slice(env.registry.length + 1).replace(/:[^:]+$/, ''), ours.digest),
    ).toEqual(expect.arrayContaining([expect.stringMatching(/\.att$/), expect.stringMatching(/\.sig$/)]));
    const [event] = await eventsWith(name, 'InputSkipped');
    expect(event!.message).toContain(`${theirRepo}@${theirs.digest}`);
    expect(event!.message).toContain('own-repositories');
    expect(await obs.observer.server.inject({ url: '/metrics' }).then((r) => r.body)).toMatch(
      /provenance_observer_inputs_skipped_total\{kind="TaskRun",reason="repository_not_allowed"\} [1-9]/,
    );
  });

  /** tenant-b's image (the target) and tenant-a's own (the legitimate subject), both pushed. */
  async function targetAndOurs() {
    const theirs = await pushTestImage(env.registry, `tenant-b/${unique('app')}`, 'v1');
    const ours = await pushTestImage(env.registry, `tenant-a/${unique('app')}`);
    return { theirs, ours };
  }

  it.each([
    ['IMAGES', (t: { ref: string; digest: string }) => [{ name: 'IMAGES', value: `${t.ref}@${t.digest}` }]],
    [
      'ARTIFACT_OUTPUTS',
      (t: { ref: string; digest: string }) => [
        { name: 'ARTIFACT_OUTPUTS', value: { uri: t.ref, digest: t.digest, isBuildArtifact: 'true' } },
      ],
    ],
    [
      'X_ARTIFACT_OUTPUTS (tagged, the measured attack)',
      (t: { ref: string; digest: string }) => [
        { name: 'X_ARTIFACT_OUTPUTS', value: { uri: t.ref, digest: t.digest, isBuildArtifact: 'true' } },
      ],
    ],
  ])(
    "A claims B's image through %s: refused (repository_not_allowed), nothing pushed, A's image attested",
    async (_hint, results) => {
      const { theirs, ours } = await targetAndOurs();
      const name = await completeBuildTaskRun(ours, {
        name: unique('hint'),
        extraResults: results(theirs) as { name: string; value: string }[],
      });
      await expectRefused(env, 'TaskRun', name, theirs, ours, 'repository_not_allowed');
    },
  );

  it("A claims B's image through a StepAction's step result: refused (repository_not_allowed)", async () => {
    const { theirs, ours } = await targetAndOurs();
    const status = succeededTaskRunStatus([
      { name: 'IMAGE_URL', value: ours.ref },
      { name: 'IMAGE_DIGEST', value: ours.digest },
    ]);
    const claim = { uri: theirs.ref, digest: theirs.digest, isBuildArtifact: 'true' };
    const steps = [
      { ...status.steps[0], results: [{ name: 'X_ARTIFACT_OUTPUTS', type: 'object', value: claim }] },
    ];
    const name = await taskRunWithStatus(unique('step'), { ...status, steps });
    await expectRefused(env, 'TaskRun', name, theirs, ours, 'repository_not_allowed');
  });

  it("A claims B's image through a child TaskRun (deep inspection): the PipelineRun statement leaves it out", async () => {
    const { theirs, ours } = await targetAndOurs();
    const pr = unique('pr-hint');
    const created = await createRun(kubeConfigFor('tenantA'), 'PipelineRun', 'tenant-a', pr, {
      pipelineRef: { name: 'build' },
    });
    const owner = { apiVersion: 'tekton.dev/v1', kind: 'PipelineRun', name: pr, uid: created.metadata.uid };
    const child = `${pr}-build`;
    await createRun(
      admin(),
      'TaskRun',
      'tenant-a',
      child,
      { taskRef: { name: 'buildah' } },
      { ownerReferences: [owner], labels: { 'tekton.dev/pipelineTask': 'build' } },
    );
    await setRunStatus(admin(), 'TaskRun', 'tenant-a', child, {
      ...succeededTaskRunStatus([
        { name: 'IMAGE_URL', value: ours.ref },
        { name: 'IMAGE_DIGEST', value: ours.digest },
        {
          name: 'X_ARTIFACT_OUTPUTS',
          value: { uri: theirs.ref, digest: theirs.digest, isBuildArtifact: 'true' },
        },
      ]),
      podName: `${child}-pod`,
    });
    const done = new Date(Date.now() + 2000).toISOString().replace(/\.\d+Z$/, 'Z');
    await setRunStatus(admin(), 'PipelineRun', 'tenant-a', pr, {
      conditions: [{ type: 'Succeeded', status: 'True', reason: 'Succeeded' }],
      startTime: done,
      completionTime: done,
      childReferences: [
        { apiVersion: 'tekton.dev/v1', kind: 'TaskRun', name: child, pipelineTaskName: 'build' },
      ],
      pipelineSpec: { tasks: [{ name: 'build', taskRef: { name: 'buildah' } }] },
    });
    await expectRefused(env, 'PipelineRun', pr, theirs, ours, 'repository_not_allowed');
  });

  it.each([
    ['a ".." segment', 'image_ref_invalid', (r: string) => r.replace('/tenant-b/', '/tenant-a/../tenant-b/')],
    ['a "//" segment', 'image_ref_invalid', (r: string) => r.replace('/tenant-b/', '//tenant-b/')],
    ['a trailing space', 'image_ref_invalid', (r: string) => `${r} `],
    ['upper case in the path', 'image_ref_invalid', (r: string) => r.replace('/tenant-b/', '/TENANT-B/')],
    ['userinfo', 'image_ref_invalid', (r: string) => `user@${r}`],
    ['a bad port', 'image_ref_invalid', (r: string) => r.replace(/:\d+\//, ':99999/')],
    [
      'Docker Hub spelling',
      'repository_not_allowed',
      (r: string) => `docker.io/${repoOf(r).split('/').slice(1).join('/')}`,
    ],
    ['a bare name', 'uri_not_allowed', (r: string) => repoOf(r).split('/').slice(1).join('/')],
    ['a pkg: URI', 'uri_not_allowed', (r: string) => `pkg:oci/${repoOf(r).split('/').pop()}`],
  ])(
    "A claims B's digest spelt with %s: skipped (%s), nothing of B's signed or pushed",
    async (_how, code, spell) => {
      const { theirs, ours } = await targetAndOurs();
      const name = await completeBuildTaskRun(ours, {
        name: unique('spell'),
        extraResults: [
          {
            name: 'X_ARTIFACT_OUTPUTS',
            value: { uri: spell(theirs.ref), digest: theirs.digest, isBuildArtifact: 'true' },
          },
        ] as unknown as { name: string; value: string }[],
      });
      await expectRefused(env, 'TaskRun', name, theirs, ours, code);
    },
  );

  it("A claims B's digest as sha512 of the same hex: skipped (digest_invalid)", async () => {
    const { theirs, ours } = await targetAndOurs();
    const name = await completeBuildTaskRun(ours, {
      name: unique('sha512'),
      extraResults: [
        {
          name: 'X_ARTIFACT_OUTPUTS',
          value: {
            uri: theirs.ref,
            digest: theirs.digest.replace('sha256:', 'sha512:'),
            isBuildArtifact: 'true',
          },
        },
      ] as unknown as { name: string; value: string }[],
    });
    await expectRefused(env, 'TaskRun', name, theirs, ours, 'digest_invalid');
  });

  it('A claims a digest that exists nowhere: skipped as subject_not_found, no .att tag created', async () => {
    const repository = `tenant-a/${unique('ghost')}`;
    const ghost = { ref: `${env.registry}/${repository}:v1`, digest: randomDigest() };
    const name = await completeBuildTaskRun(ghost, { name: unique('ghost') });
    await waitForSigned('TaskRun', 'tenant-a', name);
    expect((await signedStatement('TaskRun', name)).subject).toEqual([]);
    const client = new RegistryClient({ registry: env.registry, insecure: true });
    expect(await cosignTags(client, repository, ghost.digest)).toEqual([]);
    const [event] = await eventsWith(name, 'InputSkipped');
    expect(event!.message).toContain('subject_not_found');
  });

  it("A claims a repository the observer can push to but A's policy does not allow: nothing pushed there", async () => {
    const repository = `platform/${unique('base')}`;
    const platform = await pushTestImageWith(tokenClient, repository);
    const name = await completeBuildTaskRun(
      { ref: `${env.tokenRegistry.address}/${repository}:v1`, digest: platform },
      { name: unique('claim-platform') },
    );
    await waitForSigned('TaskRun', 'tenant-a', name);
    expect((await signedStatement('TaskRun', name)).subject).toEqual([]);
    expect(await cosignTags(tokenClient, repository, platform)).toEqual([]);
    const [event] = await eventsWith(name, 'InputSkipped');
    expect(event!.message).toContain(
      `namespace tenant-a may not claim ${env.tokenRegistry.address}/${repository}`,
    );
  });

  it('A swaps a child TaskRun after the PipelineRun completed: the impostor is not in the provenance', async () => {
    const tenant = kubeConfigFor('tenantA');
    const honest = await pushTestImage(env.registry, `tenant-a/${unique('honest')}`);
    const impostor = await pushTestImage(env.registry, `tenant-a/${unique('impostor')}`);
    const pr = unique('pr');
    const child = `${pr}-build`;
    const created = await createRun(tenant, 'PipelineRun', 'tenant-a', pr, {
      pipelineRef: { name: 'build' },
    });
    const owner = { apiVersion: 'tekton.dev/v1', kind: 'PipelineRun', name: pr, uid: created.metadata.uid };
    // Tekton creates the child, owned by the PipelineRun, and it completes
    await createRun(
      admin(),
      'TaskRun',
      'tenant-a',
      child,
      { taskRef: { name: 'buildah' } },
      {
        ownerReferences: [owner],
        labels: { 'tekton.dev/pipelineTask': 'build' },
      },
    );
    const originalCreated = (await getRun(admin(), 'TaskRun', 'tenant-a', child)) as unknown as {
      metadata: { creationTimestamp: string };
    };
    await setRunStatus(admin(), 'TaskRun', 'tenant-a', child, {
      ...succeededTaskRunStatus([
        { name: 'IMAGE_URL', value: honest.ref },
        { name: 'IMAGE_DIGEST', value: honest.digest },
      ]),
      podName: `${child}-pod`,
    });
    const completedAt = originalCreated.metadata.creationTimestamp;
    // the tenant deletes the child and, a second later, creates its own under the same name, with a
    // forged ownerReference, another task bundle and another image
    await deleteTaskRun(child);
    await waitFor('the clock to pass the completion second', async () =>
      Date.now() >= Date.parse(completedAt) + 1100 ? true : undefined,
    );
    await createRun(
      tenant,
      'TaskRun',
      'tenant-a',
      child,
      { taskRef: { name: 'evil', bundle: 'quay.io/evil/tasks:1' } },
      {
        ownerReferences: [owner],
        labels: { 'tekton.dev/pipelineTask': 'build' },
      },
    );
    await setRunStatus(admin(), 'TaskRun', 'tenant-a', child, {
      ...succeededTaskRunStatus([
        { name: 'IMAGE_URL', value: impostor.ref },
        { name: 'IMAGE_DIGEST', value: impostor.digest },
      ]),
      podName: `${child}-pod2`,
    });
    // the observer looks only now (a backlog, a restart): the PipelineRun completed before the swap
    await setRunStatus(admin(), 'PipelineRun', 'tenant-a', pr, {
      conditions: [{ type: 'Succeeded', status: 'True', reason: 'Succeeded' }],
      startTime: completedAt,
      completionTime: completedAt,
      childReferences: [
        { apiVersion: 'tekton.dev/v1', kind: 'TaskRun', name: child, pipelineTaskName: 'build' },
      ],
      pipelineSpec: { tasks: [{ name: 'build', taskRef: { name: 'buildah' } }] },
    });
    await waitForSigned('PipelineRun', 'tenant-a', pr);
    const statement = await signedStatement('PipelineRun', pr);
    const text = JSON.stringify(statement);
    expect(text).not.toContain(impostor.digest.slice(7));
    expect(text).not.toContain('quay.io/evil/tasks');
    expect((statement.predicate.buildConfig as { unresolvedChildRuns: unknown }).unresolvedChildRuns).toEqual(
      // the observer saw the original finish, so the impostor is not it (checked before the timestamps)
      [{ name: child, pipelineTaskName: 'build', state: 'replaced', kind: 'TaskRun' }],
    );
  });

  it('A swaps a child in the completion second, after the observer saw the original: replaced, left out', async () => {
    const honest = await pushTestImage(env.registry, `tenant-a/${unique('honest')}`);
    const impostor = await pushTestImage(env.registry, `tenant-a/${unique('impostor')}`);
    const pr = unique('pr-swap');
    const created = await createRun(kubeConfigFor('tenantA'), 'PipelineRun', 'tenant-a', pr, {
      pipelineRef: { name: 'build' },
    });
    const owner = { apiVersion: 'tekton.dev/v1', kind: 'PipelineRun', name: pr, uid: created.metadata.uid };
    const child = `${pr}-build`;
    const make = async (kc: ReturnType<typeof admin>, image: { ref: string; digest: string }) => {
      const run = await createRun(
        kc,
        'TaskRun',
        'tenant-a',
        child,
        { taskRef: { name: 'buildah' } },
        { ownerReferences: [owner], labels: { 'tekton.dev/pipelineTask': 'build' } },
      );
      await setRunStatus(admin(), 'TaskRun', 'tenant-a', child, {
        ...succeededTaskRunStatus([
          { name: 'IMAGE_URL', value: image.ref },
          { name: 'IMAGE_DIGEST', value: image.digest },
        ]),
        podName: `${child}-pod`,
      });
      return run as unknown as { metadata: { creationTimestamp: string } };
    };
    await make(admin(), honest);
    await waitForSigned('TaskRun', 'tenant-a', child); // the observer saw (captured) the original
    await deleteTaskRun(child);
    const swapped = await make(kubeConfigFor('tenantA'), impostor);
    // the PipelineRun completes in the very second the impostor was created
    const second = swapped.metadata.creationTimestamp;
    await setRunStatus(admin(), 'PipelineRun', 'tenant-a', pr, {
      conditions: [{ type: 'Succeeded', status: 'True', reason: 'Succeeded' }],
      startTime: second,
      completionTime: second,
      childReferences: [
        { apiVersion: 'tekton.dev/v1', kind: 'TaskRun', name: child, pipelineTaskName: 'build' },
      ],
      pipelineSpec: { tasks: [{ name: 'build', taskRef: { name: 'buildah' } }] },
    });
    await waitForSigned('PipelineRun', 'tenant-a', pr);
    const statement = await signedStatement('PipelineRun', pr);
    expect(JSON.stringify(statement)).not.toContain(impostor.digest.slice(7));
    expect((statement.predicate.buildConfig as { unresolvedChildRuns: unknown }).unresolvedChildRuns).toEqual(
      [{ name: child, pipelineTaskName: 'build', state: 'replaced', kind: 'TaskRun' }],
    );
    const events = await eventsWith(pr, 'InputSkipped');
    expect(events.map((e) => e.message).join('\n')).toContain('[replaced]');
  });

  it('A adds a child created in the completion second, never seen before: created_after_completion, left out', async () => {
    const honest = await pushTestImage(env.registry, `tenant-a/${unique('honest')}`);
    const impostor = await pushTestImage(env.registry, `tenant-a/${unique('impostor')}`);
    const pr = unique('pr-late');
    const created = await createRun(kubeConfigFor('tenantA'), 'PipelineRun', 'tenant-a', pr, {
      pipelineRef: { name: 'build' },
    });
    const owner = { apiVersion: 'tekton.dev/v1', kind: 'PipelineRun', name: pr, uid: created.metadata.uid };
    const make = async (
      kc: ReturnType<typeof admin>,
      child: string,
      image: { ref: string; digest: string },
    ) => {
      const run = await createRun(
        kc,
        'TaskRun',
        'tenant-a',
        child,
        { taskRef: { name: 'buildah' } },
        { ownerReferences: [owner], labels: { 'tekton.dev/pipelineTask': child.split('-').pop() as string } },
      );
      await setRunStatus(admin(), 'TaskRun', 'tenant-a', child, {
        ...succeededTaskRunStatus([
          { name: 'IMAGE_URL', value: image.ref },
          { name: 'IMAGE_DIGEST', value: image.digest },
        ]),
        podName: `${child}-pod`,
      });
      return run as unknown as { metadata: { creationTimestamp: string } };
    };
    // Tekton's child, created seconds before the completion
    const first = await make(admin(), `${pr}-build`, honest);
    await waitFor("the clock to pass the first child's second", async () =>
      Date.now() >= Date.parse(first.metadata.creationTimestamp) + 1100 ? true : undefined,
    );
    // the tenant's own "child" (forged ownerReference), created in the second the PipelineRun completes
    const late = await make(kubeConfigFor('tenantA'), `${pr}-extra`, impostor);
    const second = late.metadata.creationTimestamp;
    await setRunStatus(admin(), 'PipelineRun', 'tenant-a', pr, {
      conditions: [{ type: 'Succeeded', status: 'True', reason: 'Succeeded' }],
      startTime: first.metadata.creationTimestamp,
      completionTime: second,
      childReferences: [
        { apiVersion: 'tekton.dev/v1', kind: 'TaskRun', name: `${pr}-build`, pipelineTaskName: 'build' },
        { apiVersion: 'tekton.dev/v1', kind: 'TaskRun', name: `${pr}-extra`, pipelineTaskName: 'extra' },
      ],
      pipelineSpec: {
        tasks: [
          { name: 'build', taskRef: { name: 'buildah' } },
          { name: 'extra', taskRef: { name: 'buildah' } },
        ],
      },
    });
    await waitForSigned('PipelineRun', 'tenant-a', pr);
    const statement = await signedStatement('PipelineRun', pr);
    expect(JSON.stringify(statement)).not.toContain(impostor.digest.slice(7));
    expect(statement.subject).toContainEqual({
      name: repoOf(honest.ref),
      digest: { sha256: honest.digest.slice('sha256:'.length) },
    });
    expect((statement.predicate.buildConfig as { unresolvedChildRuns: unknown }).unresolvedChildRuns).toEqual(
      [
        {
          name: `${pr}-extra`,
          pipelineTaskName: 'extra',
          state: 'created-after-completion',
          kind: 'TaskRun',
        },
      ],
    );
    const events = await eventsWith(pr, 'InputSkipped');
    expect(events.map((e) => e.message).join('\n')).toContain('[created_after_completion]');
  });

  it('A reports a step image its Pod did not run (record): the outcome is in the provenance, with an Event', async () => {
    const name = await taskRunWithPod(OTHER);
    await waitForSigned('TaskRun', 'tenant-a', name);
    const byproducts = (await signedStatement('TaskRun', name)).predicate.runDetails as {
      byproducts: { name: string; content: string; annotations: { result: string } }[];
    };
    const check = byproducts.byproducts.find((b) => b.name === 'executionCheck');
    expect(check?.annotations).toEqual({ result: 'mismatch' });
    expect(JSON.parse(Buffer.from(check!.content, 'base64').toString()).differences).toEqual([
      { container: 'step-build', reported: REPORTED, ran: OTHER },
    ]);
    const [event] = await eventsWith(name, 'ExecutionMismatch');
    expect(event!.message).toContain(OTHER);
  });

  it("a PipelineRun's statement carries each child's execution outcome (v0.2 buildConfig.executionCheck)", async () => {
    const { pr, child } = await pipelineRunWithChild(OTHER);
    await waitForSigned('PipelineRun', 'tenant-a', pr);
    const config = (await signedStatement('PipelineRun', pr)).predicate.buildConfig as {
      executionCheck: { result: string; children: { name: string; result: string }[] };
    };
    expect(config.executionCheck).toMatchObject({
      result: 'mismatch',
      children: [{ name: child, pipelineTaskName: 'build', result: 'mismatch' }],
    });
  });

  it('an honest run is attested as before, with who built it and a matching execution check', async () => {
    const name = await taskRunWithPod(`docker-pullable://${REPORTED}`);
    await waitForSigned('TaskRun', 'tenant-a', name);
    const predicate = (await signedStatement('TaskRun', name)).predicate as {
      buildDefinition: { internalParameters: Record<string, unknown> };
      runDetails: { byproducts: { name: string; annotations?: { result: string } }[] };
    };
    expect(predicate.buildDefinition.internalParameters).toMatchObject({
      namespace: 'tenant-a',
      serviceAccountName: 'default',
    });
    expect(predicate.runDetails.byproducts.find((b) => b.name === 'executionCheck')?.annotations).toEqual({
      result: 'match',
    });
  });
});

describe('tenant attacks on hints that are subjects only in slsa/v0.2 (ARTIFACT_URI, flagless outputs)', () => {
  let env: LocalEnv;
  let obs: TestObserver;

  beforeAll(async () => {
    env = loadLocalEnv();
    obs = await startTestObserver(env, {
      'attestation.subject-policy': `rules:\n  - name: own-repositories\n    namespaces: [tenant-a, tenant-b]\n    repositories: ["${env.registry}/${NS}/**"]\n`,
      'artifacts.taskrun.format': 'slsa/v0.2',
    });
  });
  afterAll(async () => obs?.stop());

  it.each([
    [
      'ARTIFACT_URI/ARTIFACT_DIGEST',
      (t: { ref: string; digest: string }) => [
        { name: 'ARTIFACT_URI', value: t.ref },
        { name: 'ARTIFACT_DIGEST', value: t.digest },
      ],
    ],
    [
      'X_ARTIFACT_URI/X_ARTIFACT_DIGEST',
      (t: { ref: string; digest: string }) => [
        { name: 'X_ARTIFACT_URI', value: t.ref },
        { name: 'X_ARTIFACT_DIGEST', value: t.digest },
      ],
    ],
    [
      'X_ARTIFACT_OUTPUTS without isBuildArtifact',
      (t: { ref: string; digest: string }) => [
        { name: 'X_ARTIFACT_OUTPUTS', value: { uri: t.ref, digest: t.digest } },
      ],
    ],
    [
      'X_IMAGE_URL/X_IMAGE_DIGEST',
      (t: { ref: string; digest: string }) => [
        { name: 'X_IMAGE_URL', value: t.ref },
        { name: 'X_IMAGE_DIGEST', value: t.digest },
      ],
    ],
  ])(
    "A claims B's image through %s: refused (repository_not_allowed), nothing pushed, A's image attested",
    async (_hint, results) => {
      const theirs = await pushTestImage(env.registry, `tenant-b/${unique('app')}`, 'v1');
      const ours = await pushTestImage(env.registry, `tenant-a/${unique('app')}`);
      const name = await completeBuildTaskRun(ours, {
        name: unique('v02'),
        extraResults: results(theirs) as { name: string; value: string }[],
      });
      await expectRefused(env, 'TaskRun', name, theirs, ours, 'repository_not_allowed');
    },
  );
});

describe('tenant attacks, without a subject policy (execution check: enforce)', () => {
  let env: LocalEnv;
  let obs: TestObserver;

  beforeAll(async () => {
    env = loadLocalEnv();
    const { address, username, password } = env.tokenRegistry;
    obs = await startTestObserver(env, { 'attestation.execution-check': 'enforce' }, undefined, {
      dockerConfig: { auths: { [address]: { username, password } } },
    });
  });
  afterAll(async () => obs?.stop());

  it("A names a repository only the observer's own credentials reach: they are not used, nothing is pushed", async () => {
    const { address, username, password } = env.tokenRegistry;
    const client = new RegistryClient({
      registry: address,
      insecure: true,
      credentials: { kind: 'basic', username, password },
    });
    const repository = `platform/${unique('base')}`;
    const digest = await pushTestImageWith(client, repository);
    // a run with its Pod (enforce refuses a run without execution evidence)
    const name = await taskRunWithPod(`docker-pullable://${REPORTED}`, {
      results: [
        { name: 'IMAGE_URL', value: `${address}/${repository}:v1` },
        { name: 'IMAGE_DIGEST', value: digest },
      ],
    });
    await waitForSigned('TaskRun', 'tenant-a', name);
    expect(await cosignTags(client, repository, digest)).toEqual([]);
    const [event] = await eventsWith(name, 'InputSkipped');
    // refused without credentials: a 401 answer (subject_unreadable), or the registry's reason code
    // when the token request itself was refused (tenant-safe text, never the registry's own answer)
    expect(event!.message).toMatch(/subject_unreadable|registry_[a-z_]+/);
  });

  it('A reports a step image its Pod did not run (enforce): signed failed, with the reason', async () => {
    const message = await refusedWith(await taskRunWithPod(OTHER));
    expect(message).toContain('execution check');
    expect(message).toContain(OTHER);
  });

  it('A runs a PipelineRun whose child ran another image (enforce): the PipelineRun is refused', async () => {
    const { pr, child } = await pipelineRunWithChild(OTHER);
    await waitFor(`signed=failed on ${pr}`, async () => {
      const run = await getRun(admin(), 'PipelineRun', 'tenant-a', pr);
      return run.metadata.annotations?.['chains.tekton.dev/signed'] === 'failed' ? run : undefined;
    });
    const [event] = await eventsWith(pr, 'AttestationFailed');
    expect(event!.message).toContain(`child TaskRun ${child}: mismatch`);
  });

  it('A empties status.podName (enforce): no evidence, refused (pod_not_found)', async () => {
    const message = await refusedWith(
      await taskRunWithPod(`docker-pullable://${REPORTED}`, { podName: () => '' }),
    );
    expect(message).toContain('pod_not_found');
  });

  it('A names a Pod that never existed (enforce): no evidence, refused (pod_not_found)', async () => {
    const name = await taskRunWithPod(`docker-pullable://${REPORTED}`, { create: false });
    expect(await refusedWith(name)).toContain('pod_not_found');
  });

  it("A names another run's Pod (enforce): refused (not_owned)", async () => {
    const other = await taskRunWithPod(`docker-pullable://${REPORTED}`);
    const otherPod = `${other}-pod`;
    const name = await taskRunWithPod(`docker-pullable://${REPORTED}`, {
      podName: () => otherPod,
      create: false,
    });
    expect(await refusedWith(name)).toContain('not_owned');
  });

  it('A also ran an ephemeral debug container in its Pod (enforce): refused (mismatch)', async () => {
    const name = await taskRunWithPod(`docker-pullable://${REPORTED}`, {
      ephemeral: { name: 'debugger', imageID: OTHER },
    });
    const message = await refusedWith(name);
    expect(message).toContain('mismatch');
    expect(message).toContain('ephemeral:debugger');
  });
});

async function deleteTaskRun(name: string): Promise<void> {
  await kubeConfigFor('tenantA').makeApiClient(CustomObjectsApi).deleteNamespacedCustomObject({
    group: 'tekton.dev',
    version: 'v1',
    namespace: 'tenant-a',
    plural: 'taskruns',
    name,
  });
  await waitFor(`TaskRun ${name} gone`, async () =>
    getRun(admin(), 'TaskRun', 'tenant-a', name).then(
      () => undefined,
      () => true,
    ),
  );
}

describe('tenant attacks, with storage.oci.repository (credentials never cross tenants)', () => {
  let env: LocalEnv;
  let obs: TestObserver;
  const core = () => admin().makeApiClient(CoreV1Api);
  const rbac = () => admin().makeApiClient(RbacAuthorizationV1Api);
  const SECRET = unique('a-registry');
  const SA = unique('a-pusher');
  const BINDING = unique('a-registry-credentials');
  let platform: string;

  beforeAll(async () => {
    env = loadLocalEnv();
    const { address, username, password, tenantA } = env.tokenRegistry;
    platform = `platform/${unique('attestations')}`;
    // tenant A's own registry account (it may push under tenant-a/ only), given to its runs through
    // a ServiceAccount, and the optional RoleBinding that lets the observer read it (deploy/examples)
    const auth = Buffer.from(`${tenantA.username}:${tenantA.password}`).toString('base64');
    const dockerconfig = JSON.stringify({ auths: { [address]: { auth } } });
    await core().createNamespacedSecret({
      namespace: 'tenant-a',
      body: {
        metadata: { name: SECRET },
        type: 'kubernetes.io/dockerconfigjson',
        stringData: { '.dockerconfigjson': dockerconfig },
      },
    });
    await core().createNamespacedServiceAccount({
      namespace: 'tenant-a',
      body: { metadata: { name: SA }, secrets: [{ name: SECRET }] },
    });
    await rbac().createNamespacedRoleBinding({
      namespace: 'tenant-a',
      body: {
        metadata: { name: BINDING },
        roleRef: {
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'ClusterRole',
          name: 'provenance-observer-registry-credentials',
        },
        subjects: [{ kind: 'ServiceAccount', name: 'provenance-observer', namespace: env.observerNamespace }],
      },
    });
    obs = await startTestObserver(
      env,
      { 'storage.oci.repository': `${address}/${platform}`, 'controller.workers': '8' },
      undefined,
      // the observer's own account: it may push to the platform repository
      { dockerConfig: { auths: { [address]: { username, password } } } },
    );
  });
  afterAll(async () => {
    await obs?.stop();
    await rbac()
      .deleteNamespacedRoleBinding({ namespace: 'tenant-a', name: BINDING })
      .catch(() => {});
    await core()
      .deleteNamespacedServiceAccount({ namespace: 'tenant-a', name: SA })
      .catch(() => {});
    await core()
      .deleteNamespacedSecret({ namespace: 'tenant-a', name: SECRET })
      .catch(() => {});
  });

  /** A TaskRun of tenant A, run as its pushing ServiceAccount, that names `image` as its build output. */
  async function tenantARun(image: { ref: string; digest: string }): Promise<string> {
    const name = unique('flood');
    await createRun(kubeConfigFor('tenantA'), 'TaskRun', 'tenant-a', name, {
      taskRef: { name: 'buildah' },
      serviceAccountName: SA,
    });
    await setRunStatus(
      admin(),
      'TaskRun',
      'tenant-a',
      name,
      succeededTaskRunStatus([
        { name: 'IMAGE_URL', value: image.ref },
        { name: 'IMAGE_DIGEST', value: image.digest },
      ]),
    );
    return name;
  }

  it("A floods runs naming B's digest with credentials the platform repository refuses: B's runs still attest", async () => {
    const { address, username, password } = env.tokenRegistry;
    const b = await pushTestImage(env.registry, `tenant-b/${unique('app')}`, 'v1');
    const image = { ref: b.ref, digest: b.digest };
    // A's runs go on arriving while B's are attested, so B's appends queue behind A's on the one tag
    // the platform repository has for that digest (before the fix they joined A's batch, pushed
    // with A's credentials, and failed with A's denial)
    const flood: Promise<string>[] = [];
    let flooding = true;
    const floodLoop = (async () => {
      while (flooding && flood.length < 60) {
        flood.push(tenantARun(image));
        await new Promise((r) => setTimeout(r, 40));
      }
    })();
    await new Promise((r) => setTimeout(r, 500));
    const bRuns: string[] = [];
    for (let i = 0; i < 3; i++) {
      bRuns.push(await completeBuildTaskRun(image, { name: unique('victim'), namespace: 'tenant-b' }));
      await new Promise((r) => setTimeout(r, 300));
    }
    try {
      for (const name of bRuns)
        await waitFor(`TaskRun tenant-b/${name} settled`, async () => {
          const run = await getRun(admin(), 'TaskRun', 'tenant-b', name);
          const signed = run.metadata.annotations?.['chains.tekton.dev/signed'];
          return signed === 'true' || signed === 'failed' ? signed : undefined;
        }).then((signed) => expect(signed, `tenant-b/${name}`).toBe('true'));
    } finally {
      flooding = false;
      await floodLoop;
    }
    // A's runs end failed with the denial of A's own credentials, as they should
    const aNames = await Promise.all(flood);
    const last = aNames[aNames.length - 1] as string;
    await waitFor(`signed=failed on ${last}`, async () => {
      const run = await getRun(admin(), 'TaskRun', 'tenant-a', last);
      return run.metadata.annotations?.['chains.tekton.dev/signed'] === 'failed' ? run : undefined;
    });
    const [event] = await eventsWith(last, 'AttestationFailed');
    expect(event!.message).toContain('registry_denied');
    // the platform tag holds B's attestations, pushed with the observer's account; none of A's
    const reader = new RegistryClient({
      registry: address,
      insecure: true,
      credentials: { kind: 'basic', username, password },
    });
    const att = await reader.getManifest(platform, `${b.digest.replace(':', '-')}.att`);
    const layers = (JSON.parse(new TextDecoder().decode(att?.bytes)) as { layers: unknown[] }).layers;
    expect(layers).toHaveLength(bRuns.length);
  });
});

/** A request as a server saw it: what the observer sent there. */
interface Received {
  method: string;
  url: string;
  authorization?: string;
}

/** Listens on 127.0.0.1 (a free port) and resolves to `host:port`. */
async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('tenant attacks on credentials through a redirect (a real token registry behind a front)', () => {
  let env: LocalEnv;
  let obs: TestObserver;
  let front: string;
  let elsewhere: string;
  const received: Received[] = [];
  const servers: Server[] = [];
  const core = () => admin().makeApiClient(CoreV1Api);
  const rbac = () => admin().makeApiClient(RbacAuthorizationV1Api);
  const SECRET = unique('a-front');
  const SA = unique('a-front-pusher');
  const BINDING = unique('a-front-credentials');

  /** Another host, whose challenge names its own token realm; it records everything sent to it. */
  async function startElsewhere(): Promise<string> {
    const other = createServer((req, res) => {
      received.push({
        method: req.method ?? '',
        url: req.url ?? '',
        ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
      });
      req.resume();
      res.writeHead(401, {
        'www-authenticate': `Bearer realm="http://${elsewhere}/token",service="elsewhere",scope="repository:stolen/app:pull"`,
        'content-type': 'application/json',
      });
      res.end('{"errors":[{"code":"UNAUTHORIZED"}]}');
    });
    servers.push(other);
    return listen(other);
  }

  /**
   * The registry tenant A pushes to: the real token registry, except that the repository `stolen/*`
   * answers with a redirect to the other host.
   */
  async function startFront(registry: string): Promise<string> {
    const [host, port] = registry.split(':');
    const proxy = createServer((req, res) => {
      if (req.url?.startsWith('/v2/stolen/')) {
        req.resume();
        res.writeHead(307, { location: `http://${elsewhere}${req.url}` });
        res.end();
        return;
      }
      const upstream = request(
        { host, port: Number(port), method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
    servers.push(proxy);
    return listen(proxy);
  }

  beforeAll(async () => {
    env = loadLocalEnv();
    const { address, username, password, tenantA } = env.tokenRegistry;
    elsewhere = await startElsewhere();
    front = await startFront(address);
    // tenant A's own account for the front (it may push under tenant-a/ only), given to its runs
    // through a ServiceAccount the observer may read (as in the storage.oci.repository tests)
    const auth = Buffer.from(`${tenantA.username}:${tenantA.password}`).toString('base64');
    await core().createNamespacedSecret({
      namespace: 'tenant-a',
      body: {
        metadata: { name: SECRET },
        type: 'kubernetes.io/dockerconfigjson',
        stringData: { '.dockerconfigjson': JSON.stringify({ auths: { [front]: { auth } } }) },
      },
    });
    await core().createNamespacedServiceAccount({
      namespace: 'tenant-a',
      body: { metadata: { name: SA }, secrets: [{ name: SECRET }] },
    });
    await rbac().createNamespacedRoleBinding({
      namespace: 'tenant-a',
      body: {
        metadata: { name: BINDING },
        roleRef: {
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'ClusterRole',
          name: 'provenance-observer-registry-credentials',
        },
        subjects: [{ kind: 'ServiceAccount', name: 'provenance-observer', namespace: env.observerNamespace }],
      },
    });
    obs = await startTestObserver(
      env,
      { 'storage.oci.insecure-registries': `${env.registry},${address},${front},${elsewhere}` },
      undefined,
      // the observer's own account for the front too: neither may reach the other host
      { dockerConfig: { auths: { [front]: { username, password } } } },
    );
  });
  afterAll(async () => {
    await obs?.stop();
    for (const s of servers) s.close();
    await rbac()
      .deleteNamespacedRoleBinding({ namespace: 'tenant-a', name: BINDING })
      .catch(() => {});
    await core()
      .deleteNamespacedServiceAccount({ namespace: 'tenant-a', name: SA })
      .catch(() => {});
    await core()
      .deleteNamespacedSecret({ namespace: 'tenant-a', name: SECRET })
      .catch(() => {});
  });

  it('a redirect that asks for credentials on another host: none sent there, the legitimate subject attested', async () => {
    const { address, username, password, tenantA } = env.tokenRegistry;
    const direct = new RegistryClient({
      registry: address,
      insecure: true,
      credentials: { kind: 'basic', username, password },
    });
    const repository = `tenant-a/${unique('app')}`;
    const ours = await pushTestImageWith(direct, repository);
    const name = unique('redirect');
    await createRun(kubeConfigFor('tenantA'), 'TaskRun', 'tenant-a', name, {
      taskRef: { name: 'buildah' },
      serviceAccountName: SA,
    });
    await setRunStatus(
      admin(),
      'TaskRun',
      'tenant-a',
      name,
      succeededTaskRunStatus([
        { name: 'IMAGE_URL', value: `${front}/${repository}:v1` },
        { name: 'IMAGE_DIGEST', value: ours },
        { name: 'OTHER_IMAGE_URL', value: `${front}/stolen/app:v1` },
        { name: 'OTHER_IMAGE_DIGEST', value: randomDigest() },
      ]),
    );
    await waitForSigned('TaskRun', 'tenant-a', name);
    const statement = await signedStatement('TaskRun', name);
    expect(statement.subject).toEqual([
      { name: `${front}/${repository}`, digest: { sha256: ours.slice('sha256:'.length) } },
    ]);
    const [event] = await eventsWith(name, 'InputSkipped');
    expect(event!.message).toContain(`${front}/stolen/app`);
    expect(event!.message).toContain('subject_unreadable');
    // the redirect was followed (the other host was asked), and it got no credentials of any kind
    expect(received.filter((r) => r.url.startsWith('/v2/stolen/app/'))).not.toEqual([]);
    expect(received.filter((r) => r.authorization !== undefined)).toEqual([]);
    expect(received.filter((r) => r.url.startsWith('/token'))).toEqual([]);
    // the legitimate subject's attestation and signature were pushed through the front
    expect(await cosignTags(direct, repository, ours)).toEqual(
      expect.arrayContaining([expect.stringMatching(/\.att$/), expect.stringMatching(/\.sig$/)]),
    );
    for (const secret of [`${username}:${password}`, `${tenantA.username}:${tenantA.password}`])
      expect(obs.logs()).not.toContain(Buffer.from(secret).toString('base64'));
  });
});

describe('the execution check after the Pod is pruned (enforce): judged against the evidence captured', () => {
  let env: LocalEnv;
  let obs: TestObserver;
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const secret = {
    'x509.pem': key.export({ format: 'pem', type: 'pkcs8' }).toString(),
    'cosign.pub': createPublicKey(key).export({ format: 'pem', type: 'spki' }).toString(),
  };
  const core = () => admin().makeApiClient(CoreV1Api);

  beforeAll(async () => {
    env = loadLocalEnv();
    obs = await startTestObserver(env, { 'attestation.execution-check': 'enforce' }, undefined, { key });
  });
  afterAll(async () => {
    await putSigningSecret(env, secret).catch(() => {});
    await obs?.stop();
  });

  it('a Pod pruned after its evidence was captured: a match is signed, a mismatch refused (not pod_not_found)', async () => {
    // the observer has no key for a while (its Secret is gone): it captures the runs and their
    // Pods' evidence when it first sees them finished, and attests nothing until the key is back
    await core().deleteNamespacedSecret({ name: 'signing-secrets', namespace: env.observerNamespace });
    await waitFor('the observer without a key', async () =>
      (await fetch(`${obs.observer.address}/readyz`)).status === 200 ? undefined : true,
    );
    const ours = await pushTestImage(env.registry, `tenant-a/${unique('app')}`);
    const results = [
      { name: 'IMAGE_URL', value: ours.ref },
      { name: 'IMAGE_DIGEST', value: ours.digest },
    ];
    const honest = await taskRunWithPod(`docker-pullable://${REPORTED}`, { results });
    const lying = await taskRunWithPod(OTHER, { results });
    for (const name of [honest, lying]) {
      const { uid } = (await getRun(admin(), 'TaskRun', 'tenant-a', name)).metadata;
      const evidence = await waitFor(`evidence of ${name} captured`, () =>
        obs.observer.index.findRunEvidence(uid ?? ''),
      );
      expect(evidence).toMatchObject({ found: true, podName: `${name}-pod` });
      const now = await getRun(admin(), 'TaskRun', 'tenant-a', name);
      expect(now.metadata.annotations?.['chains.tekton.dev/signed']).toBeUndefined();
      // pruned: the Pod is gone before the run is attested
      await core().deleteNamespacedPod({ name: `${name}-pod`, namespace: 'tenant-a', gracePeriodSeconds: 0 });
      await waitFor(`Pod ${name}-pod gone`, () =>
        core()
          .readNamespacedPod({ name: `${name}-pod`, namespace: 'tenant-a' })
          .then(
            () => undefined,
            () => true,
          ),
      );
    }
    await putSigningSecret(env, secret);
    const signed = await waitForSigned('TaskRun', 'tenant-a', honest);
    const run = {
      kind: 'TaskRun' as const,
      namespace: 'tenant-a',
      name: honest,
      uid: signed.metadata.uid ?? '',
    };
    expect(
      recordedExecutionCheck({ ...run, serviceAccountName: 'default' }, signed.metadata.annotations ?? {}),
    ).toMatchObject({ result: 'match', podName: `${honest}-pod`, evidence: 'captured' });
    const message = await refusedWith(lying);
    expect(message).toContain('mismatch');
    expect(message).toContain(OTHER);
    expect(message).not.toContain('pod_not_found');
  }, 180_000);
});
