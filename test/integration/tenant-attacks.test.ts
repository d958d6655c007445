import { randomBytes } from 'node:crypto';
import { CoreV1Api, CustomObjectsApi, RbacAuthorizationV1Api, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/oci/index.ts';
import { kubeConfigFor, type LocalEnv, loadLocalEnv } from '../env/index.ts';
import { startTestObserver, type TestObserver } from '../helpers/observer.ts';
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
async function runPod(name: string, owner: { name: string; uid: string }, imageID: string) {
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
  pod.status = {
    phase: 'Succeeded',
    containerStatuses: [
      {
        name: 'step-build',
        image: 'docker.io/library/busybox',
        imageID,
        ready: false,
        restartCount: 0,
        state: { terminated: { exitCode: 0, reason: 'Completed' } },
      },
    ],
  };
  await core.replaceNamespacedPodStatus({ name, namespace: 'tenant-a', body: pod });
}

const REPORTED = succeededTaskRunStatus([]).steps[0]!.imageID;
const OTHER = `docker.io/library/alpine@sha256:${'9'.repeat(64)}`;

/** A TaskRun whose Pod ran `ranImageID` in step-build while its status reports REPORTED. */
async function taskRunWithPod(ranImageID: string): Promise<string> {
  const name = unique('exec');
  const created = await createRun(kubeConfigFor('tenantA'), 'TaskRun', 'tenant-a', name, {
    taskRef: { name: 'buildah' },
  });
  await runPod(`${name}-pod`, { name, uid: created.metadata.uid }, ranImageID);
  await setRunStatus(admin(), 'TaskRun', 'tenant-a', name, {
    ...succeededTaskRunStatus([]),
    podName: `${name}-pod`,
  });
  return name;
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
      [{ name: child, pipelineTaskName: 'build', state: 'created-after-completion', kind: 'TaskRun' }],
    );
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
    const name = await completeBuildTaskRun(
      { ref: `${address}/${repository}:v1`, digest },
      { name: unique('no-policy') },
    );
    await waitForSigned('TaskRun', 'tenant-a', name);
    expect(await cosignTags(client, repository, digest)).toEqual([]);
    const [event] = await eventsWith(name, 'InputSkipped');
    // refused without credentials: a 401 answer (subject_unreadable), or the registry's reason code
    // when the token request itself was refused (tenant-safe text, never the registry's own answer)
    expect(event!.message).toMatch(/subject_unreadable|registry_[a-z_]+/);
  });

  it('A reports a step image its Pod did not run (enforce): signed failed, with the reason', async () => {
    const name = await taskRunWithPod(OTHER);
    await waitFor(`signed=failed on ${name}`, async () => {
      const run = await getRun(admin(), 'TaskRun', 'tenant-a', name);
      return run.metadata.annotations?.['chains.tekton.dev/signed'] === 'failed' ? run : undefined;
    });
    const [event] = await eventsWith(name, 'AttestationFailed');
    expect(event!.message).toContain('execution check');
    expect(event!.message).toContain(OTHER);
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
