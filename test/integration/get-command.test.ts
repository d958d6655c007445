import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import type { KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyObject, kubeConfigFor, type LocalEnv, loadLocalEnv } from '../env/index.ts';
import { ensureApiReaders } from '../helpers/api-tokens.ts';
import { startTestObserver, type TestObserver } from '../helpers/observer.ts';
import { opensslVerifiesEnvelope } from '../helpers/openssl-dsse.ts';
import { completeBuildTaskRun, waitForSigned } from '../helpers/tekton.ts';
import { pushTestImage } from '../helpers/test-image.ts';

const BIN = resolve(import.meta.dirname, '../../bin/provenance-observer.js');
const run = promisify(execFile);

// `provenance-observer get` against the real lookup API, as a tenant developer would use it: their
// kubeconfig mints an audience-bound token for a reader ServiceAccount (TokenRequest), and the
// answers print as kubectl-style tables or as the API's JSON.
describe('provenance-observer get', () => {
  let env: LocalEnv;
  let obs: TestObserver;
  let name: string;
  let digest: string;

  beforeAll(async () => {
    env = loadLocalEnv();
    await ensureApiReaders();
    // tenant-a-dev may mint tokens for its namespace's api-reader, nothing more
    for (const obj of tokenMinter()) await applyObject(kubeConfigFor('admin'), obj);
    obs = await startTestObserver(env);
    const image = await pushTestImage(env.registry, `get/cli-${Date.now()}`);
    digest = image.digest;
    name = await completeBuildTaskRun(image, { name: `get-${Date.now()}` });
    await waitForSigned('TaskRun', 'tenant-a', name);
  });
  afterAll(async () => obs?.stop());

  /** the CLI as a child process, as tenant-a-dev, with a token minted for tenant-a/api-reader */
  async function get(args: string[], sa = 'tenant-a/api-reader') {
    const common = ['--server', obs.observer.apiAddress as string, '--ca-file', obs.apiCert.certFile];
    const who = ['--kubeconfig', env.kubeconfigs.tenantA, ...(sa ? ['--service-account', sa] : [])];
    return run(process.execPath, [BIN, 'get', ...args, ...common, ...who]).then(
      (r) => ({ code: 0, ...r }),
      (err: { code: number; stdout: string; stderr: string }) => err,
    );
  }

  it('prints a run as a table, with its state and attestation count', async () => {
    const { code, stdout } = await get(['taskrun', name, '-n', 'tenant-a']);
    expect(code).toBe(0);
    const [header, row, ...rest] = stdout.trimEnd().split('\n');
    expect(header).toMatch(
      /^KIND\s{3,}NAMESPACE\s{3,}NAME\s{3,}UID\s{3,}STATUS\s{3,}ATTEMPTS\s{3,}ATTESTATIONS\s{3,}UPDATED$/,
    );
    expect(row?.split(/\s{3,}/)).toEqual([
      'TaskRun',
      'tenant-a',
      name,
      expect.stringMatching(/^[0-9a-f-]{36}$/),
      'attested',
      '0',
      '1',
      expect.stringMatching(/Z$/),
    ]);
    expect(rest).toEqual([]);
    // `run <ns>/<name>` finds the same without knowing the kind
    expect((await get(['run', `tenant-a/${name}`])).stdout).toBe(stdout);
  });

  it('lists attestations by digest as JSON, and the envelope verifies with a published key', async () => {
    const listed = await get(['attestations', '--digest', digest, '-o', 'json']);
    expect(listed.code).toBe(0);
    const { items } = JSON.parse(listed.stdout) as { items: { id: string; run: { name: string } }[] };
    expect(items.map((a) => a.run.name)).toEqual([name]);
    const envelope = await get(['envelope', items[0]!.id]);
    expect(JSON.parse(envelope.stdout).payloadType).toBe('application/vnd.in-toto+json');
    expect(opensslVerifiesEnvelope(envelope.stdout, obs.publicKeyPem)).toBe(true);
    const table = await get(['attestations', '--digest', digest]);
    expect(table.stdout.split('\n')[1]).toContain(`TaskRun/tenant-a/${name}`);
    const keys = await get(['keys'], '');
    expect(keys.stdout).toMatch(
      /^KEY ID\s{3,}ALGORITHM\s{3,}ACTIVE\nSHA256:\S+\s{3,}ecdsa-p256-sha256\s{3,}true\n$/,
    );
  });

  it('says what went wrong: no access, a token for the wrong audience, a ServiceAccount one may not use', async () => {
    const other = await get(['taskrun', name, '-n', 'tenant-b']);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/403 Forbidden/);
    // the kubeconfig's own token is the apiserver's, not the API's audience
    const ownToken = await get(['taskrun', name, '-n', 'tenant-a'], '');
    expect(ownToken.stderr).toMatch(/401 Unauthorized/);
    const foreign = await get(['keys', '--bogus'], '');
    expect(foreign.code).toBe(2);
    const notMine = await get(['taskrun', name, '-n', 'tenant-a'], 'tenant-b/api-reader');
    expect(notMine.stderr).toMatch(/ServiceAccount tenant-b\/api-reader: forbidden/);
    expect(`${ownToken.stderr}${notMine.stderr}`).not.toContain(env.tokens.tenantA);
  });
});

function tokenMinter(): KubernetesObject[] {
  const meta = { name: 'api-reader-token', namespace: 'tenant-a' };
  return [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: meta,
      rules: [
        {
          apiGroups: [''],
          resources: ['serviceaccounts/token'],
          resourceNames: ['api-reader'],
          verbs: ['create'],
        },
      ],
    } as KubernetesObject,
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: meta,
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'api-reader-token' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'tenant-a-dev' }],
    } as KubernetesObject,
  ];
}
