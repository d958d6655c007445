import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/oci/index.ts';
import { kubeConfigFor, type LocalEnv, loadLocalEnv } from '../env/index.ts';
import { apiToken, ensureApiReaders } from '../helpers/api-tokens.ts';
import { startTestObserver, type TestObserver } from '../helpers/observer.ts';
import { opensslVerifiesEnvelope } from '../helpers/openssl-dsse.ts';
import {
  completeBuildTaskRun,
  createRun,
  setRunStatus,
  succeededTaskRunStatus,
  waitForSigned,
} from '../helpers/tekton.ts';
import { pushTestImage } from '../helpers/test-image.ts';

// The first end-to-end path: a TaskRun completes in the real apiserver, the observer (running as
// its own least-privilege identity) attests it, the .att lands in the real registry, and openssl
// verifies the envelope read back from the registry.
describe('TaskRun → signed SLSA v1.0 attestation in the registry and on the run', () => {
  let env: LocalEnv;
  let obs: TestObserver;

  beforeAll(async () => {
    env = loadLocalEnv();
    obs = await startTestObserver(env);
  });
  afterAll(async () => obs?.stop());

  it('attests a completed TaskRun that reports IMAGE_URL/IMAGE_DIGEST', async () => {
    const repository = `e2e/taskrun-${Date.now()}`;
    const image = await pushTestImage(env.registry, repository, 'v1');
    const name = `build-${Date.now()}`;
    const tenant = kubeConfigFor('tenantA');
    const created = await createRun(tenant, 'TaskRun', 'tenant-a', name, {
      taskRef: { name: 'buildah' },
      params: [{ name: 'IMAGE', value: image.ref }],
    });
    await setRunStatus(
      kubeConfigFor('admin'),
      'TaskRun',
      'tenant-a',
      name,
      succeededTaskRunStatus([
        { name: 'IMAGE_URL', value: `${image.ref}\n` },
        { name: 'IMAGE_DIGEST', value: image.digest },
      ]),
    );

    const run = await waitForSigned('TaskRun', 'tenant-a', name);
    const uid = created.metadata.uid;
    const annotations = run.metadata.annotations ?? {};

    // The .att in the image's repository, read back with a registry client.
    const client = new RegistryClient({ registry: env.registry, insecure: true });
    const attTag = `${image.digest.replace(':', '-')}.att`;
    const manifest = await client.getManifest(repository, attTag);
    expect(manifest).toBeDefined();
    const layers = (
      JSON.parse(Buffer.from(manifest!.bytes).toString()) as {
        layers: { mediaType: string; digest: string }[];
      }
    ).layers;
    expect(layers).toHaveLength(1);
    expect(layers[0]!.mediaType).toBe('application/vnd.dsse.envelope.v1+json');
    const envelopeBytes = await client.getBlob(repository, layers[0]!.digest);
    expect(`sha256:${createHash('sha256').update(envelopeBytes).digest('hex')}`).toBe(layers[0]!.digest);

    // Verified by openssl over the DSSE PAE, not by our code.
    expect(opensslVerifiesEnvelope(envelopeBytes, obs.publicKeyPem)).toBe(true);
    const envelope = JSON.parse(Buffer.from(envelopeBytes).toString()) as {
      payload: string;
      payloadType: string;
    };
    expect(envelope.payloadType).toBe('application/vnd.in-toto+json');
    const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString());
    expect(statement._type).toBe('https://in-toto.io/Statement/v1');
    expect(statement.predicateType).toBe('https://slsa.dev/provenance/v1');
    expect(statement.subject).toEqual([
      { name: `${env.registry}/${repository}`, digest: { sha256: image.digest.slice(7) } },
    ]);
    expect(statement.predicate.buildDefinition.buildType).toBe('https://tekton.dev/chains/v2/slsa');
    expect(statement.predicate.runDetails.metadata.invocationId).toBe(uid);

    // Chains' annotation contract on the run.
    expect(Buffer.from(annotations[`chains.tekton.dev/payload-taskrun-${uid}`]!, 'base64').toString()).toBe(
      Buffer.from(envelope.payload, 'base64').toString(),
    );
    expect(Buffer.from(annotations[`chains.tekton.dev/signature-taskrun-${uid}`]!, 'base64').toString()).toBe(
      Buffer.from(envelopeBytes).toString(),
    );

    // A tampered envelope does not verify (the check above can fail).
    const tampered = { ...envelope, payloadType: 'text/plain' };
    expect(opensslVerifiesEnvelope(JSON.stringify(tampered), obs.publicKeyPem)).toBe(false);
  });

  it('serves the attestation through the lookup API, to the tenant only', async () => {
    const image = await pushTestImage(env.registry, `e2e/lookup-${Date.now()}`, 'v1');
    const name = await completeBuildTaskRun(image, { name: `lookup-${Date.now()}` });
    await waitForSigned('TaskRun', 'tenant-a', name);
    await ensureApiReaders();
    const tokens = { a: await apiToken('tenantA'), b: await apiToken('tenantB') };
    const get = async (path: string, token?: string) => {
      const res = await obs.api(`/api/v1${path}`, token);
      return { status: res.status, json: () => res.json(), text: () => res.text };
    };

    const byRun = await get(`/runs/tenant-a/taskruns/${name}`, tokens.a);
    expect(byRun.status).toBe(200);
    const body = byRun.json() as { attestations: { id: string; subjects: { digest: string }[] }[] };
    expect(body.attestations[0]?.subjects).toContainEqual(expect.objectContaining({ digest: image.digest }));
    const id = body.attestations[0]!.id;
    const envelope = await get(`/attestations/${id}/envelope`, tokens.a);
    expect(envelope.status).toBe(200);
    expect(opensslVerifiesEnvelope(envelope.text(), obs.publicKeyPem)).toBe(true);
    const byDigest = (await get(`/attestations?digest=${image.digest}`, tokens.a)).json() as {
      items: unknown[];
    };
    expect(byDigest.items).toHaveLength(1);

    // another tenant sees nothing of it; no token is 401
    expect((await get(`/runs/tenant-a/taskruns/${name}`, tokens.b)).status).toBe(403);
    expect((await get(`/attestations/${id}/envelope`, tokens.b)).status).toBe(404);
    const hidden = (await get(`/attestations?digest=${image.digest}`, tokens.b)).json() as {
      items: unknown[];
    };
    expect(hidden.items).toHaveLength(0);
    expect((await get(`/runs/tenant-a/taskruns/${name}`)).status).toBe(401);
  });

  it('reports readiness, and counts the attestation in /metrics', async () => {
    const ready = await fetch(`${obs.observer.address}/readyz`);
    expect(ready.status).toBe(200);
    const text = await (await fetch(`${obs.observer.address}/metrics`)).text();
    expect(text).toMatch(/provenance_observer_runs_attested_total\{kind="TaskRun"\} [1-9]/);
    expect(text).toMatch(/watcher_taskrun_marked_signed_total [1-9]/);
    expect(text).toContain('provenance_observer_watch_last_event_age_seconds{kind="TaskRun"}');
  });
});
