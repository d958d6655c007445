import { describe, expect, it } from 'vitest';
import type {
  SecretObject as V1Secret,
  ServiceAccountObject as V1ServiceAccount,
} from '../../../src/kube/index.ts';
import { createLogger } from '../../../src/observability/index.ts';
import {
  ChainedCredentials,
  DockerConfigCredentials,
  ServiceAccountCredentials,
  type ServiceAccountCredentialsOptions,
} from '../../../src/storage/index.ts';
import type { RunRef } from '../../../src/tekton/run-ref.ts';

const run: RunRef = {
  kind: 'TaskRun',
  namespace: 'tenant-a',
  name: 'build-1',
  uid: 'u1',
  serviceAccountName: 'pipeline',
};
const b64 = (s: string) => Buffer.from(s).toString('base64');
const logger = createLogger({ level: 'silent' });

describe('DockerConfigCredentials', () => {
  const config = {
    auths: {
      'https://index.docker.io/v1/': { auth: b64('hub:pw') },
      'https://registry.example.com/v1/': { auth: b64('user:pa:ss') },
      'quay.example.com': { identitytoken: 'refresh-me', auth: b64('x:y') },
      'plain.example.com:5000': { username: 'u', password: 'p' },
    },
  };
  const source = new DockerConfigCredentials({ config });
  it('normalises keys (scheme, /v1/ path, Docker Hub aliases) and splits auth at the first colon', async () => {
    expect(await source.credentialsFor(run, 'registry.example.com')).toEqual({
      kind: 'basic',
      username: 'user',
      password: 'pa:ss',
    });
    expect(await source.credentialsFor(run, 'docker.io')).toEqual({
      kind: 'basic',
      username: 'hub',
      password: 'pw',
    });
    expect(await source.credentialsFor(run, 'plain.example.com:5000')).toEqual({
      kind: 'basic',
      username: 'u',
      password: 'p',
    });
  });
  it('prefers identitytoken, and answers undefined for unknown hosts', async () => {
    expect(await source.credentialsFor(run, 'quay.example.com')).toEqual({
      kind: 'identity-token',
      identityToken: 'refresh-me',
    });
    expect(await source.credentialsFor(run, 'other.example.com')).toBeUndefined();
  });
  it('reads a legacy .dockercfg map too', async () => {
    const legacy = new DockerConfigCredentials({ config: { 'https://r.example.com': { auth: b64('a:b') } } });
    expect(await legacy.credentialsFor(run, 'r.example.com')).toEqual({
      kind: 'basic',
      username: 'a',
      password: 'b',
    });
  });
});

/** A CoreV1Api stand-in serving fixed objects; unknown names answer like the apiserver (404). */
function fakeCore(sa: V1ServiceAccount | 'forbidden', secrets: Record<string, V1Secret>) {
  const reads: string[] = [];
  const apiError = (code: number) => Object.assign(new Error(`HTTP ${code}`), { code });
  const core = {
    readNamespacedServiceAccount: async ({ name, namespace }: { name: string; namespace: string }) => {
      reads.push(`sa ${namespace}/${name}`);
      if (sa === 'forbidden') throw apiError(403);
      return sa;
    },
    readNamespacedSecret: async ({ name, namespace }: { name: string; namespace: string }) => {
      reads.push(`secret ${namespace}/${name}`);
      const s = secrets[name];
      if (!s) throw apiError(404);
      return s;
    },
  } as unknown as ServiceAccountCredentialsOptions['core'];
  return { core, reads };
}

const dockerconfigjson = (host: string, user: string): V1Secret => ({
  type: 'kubernetes.io/dockerconfigjson',
  data: { '.dockerconfigjson': b64(JSON.stringify({ auths: { [host]: { auth: b64(`${user}:pw`) } } })) },
});

describe('ServiceAccountCredentials', () => {
  const sa: V1ServiceAccount = {
    secrets: [{ name: 'opaque' }, { name: 'missing' }, { name: 'push' }],
    imagePullSecrets: [{ name: 'pull' }],
  };
  const secrets = {
    opaque: { type: 'Opaque', data: { '.dockerconfigjson': b64('{}') } },
    push: dockerconfigjson('reg.example.com', 'pusher'),
    pull: {
      type: 'kubernetes.io/dockercfg',
      data: { '.dockercfg': b64(JSON.stringify({ 'other.example.com': { auth: b64('puller:pw') } })) },
    },
  };

  it("reads the run's service account secrets in order, skipping other types and missing ones", async () => {
    const { core, reads } = fakeCore(sa, secrets);
    const source = new ServiceAccountCredentials({ core, logger });
    expect(await source.credentialsFor(run, 'reg.example.com')).toEqual({
      kind: 'basic',
      username: 'pusher',
      password: 'pw',
    });
    expect(reads).toEqual([
      'sa tenant-a/pipeline',
      'secret tenant-a/opaque',
      'secret tenant-a/missing',
      'secret tenant-a/push',
    ]);
  });

  it('ignores imagePullSecrets unless asked (as Chains)', async () => {
    const { core } = fakeCore(sa, secrets);
    expect(
      await new ServiceAccountCredentials({ core, logger }).credentialsFor(run, 'other.example.com'),
    ).toBeUndefined();
    const withPull = new ServiceAccountCredentials({ core, logger, includeImagePullSecrets: true });
    expect(await withPull.credentialsFor(run, 'other.example.com')).toEqual({
      kind: 'basic',
      username: 'puller',
      password: 'pw',
    });
  });

  it('answers undefined when the service account cannot be read (forbidden)', async () => {
    const { core } = fakeCore('forbidden', {});
    expect(
      await new ServiceAccountCredentials({ core, logger }).credentialsFor(run, 'reg.example.com'),
    ).toBeUndefined();
  });
});

describe('ChainedCredentials', () => {
  it('answers with the first source that has credentials', async () => {
    const none = new DockerConfigCredentials({ config: {} });
    const some = new DockerConfigCredentials({
      config: { auths: { 'r.example.com': { auth: b64('a:b') } } },
    });
    const chained = new ChainedCredentials({ sources: [none, some] });
    expect(await chained.credentialsFor(run, 'r.example.com')).toEqual({
      kind: 'basic',
      username: 'a',
      password: 'b',
    });
    expect(await chained.credentialsFor(run, 'x.example.com')).toBeUndefined();
  });
});
