import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { buildPolicyStatement, canonicalJsonBytes } from '../../src/formats/index.ts';
import { parseSubjectPolicy } from '../../src/policy/index.ts';
import { pae } from '../../src/signing/index.ts';
import { kubeConfigFor, type LocalEnv, loadLocalEnv } from '../env/index.ts';
import { apiGet } from '../helpers/api-client.ts';
import { apiToken, ensureApiReaders } from '../helpers/api-tokens.ts';
import { putSigningSecret } from '../helpers/observer.ts';
import { opensslVerifiesEnvelope } from '../helpers/openssl-dsse.ts';
import { completeBuildTaskRun, getRun, waitFor } from '../helpers/tekton.ts';
import { pushTestImage } from '../helpers/test-image.ts';
import { type TestCert, writeTestCert } from '../helpers/tls-cert.ts';

/**
 * The signed subject policy statement (issue 22 item 4) end to end: the observer (a child process,
 * real apiserver and registry) signs it with the platform key and serves it on the API and in its
 * ConfigMap; `provenance-observer verify --policy-statement` (the CLI, a process) accepts an honest
 * run's attestation and refuses a provenance naming a namespace not allowed its repository, an
 * expired statement and a statement signed by another key. openssl verifies the statement apart.
 */
const BIN = join(import.meta.dirname, '../../bin/provenance-observer.js');
const exec = promisify(execFile);

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

async function verify(args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await exec(process.execPath, [BIN, 'verify', ...args]);
    return { code: 0, out: stdout };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: `${e.stdout}${e.stderr}` };
  }
}

/** A DSSE envelope of `statement` signed with `key` (ECDSA P-256, SHA-256), by the test alone. */
function envelopeOf(statement: unknown, key: KeyObject): string {
  const payload = Buffer.from(canonicalJsonBytes(statement));
  const sig = sign('sha256', pae('application/vnd.in-toto+json', payload), key);
  return JSON.stringify({
    payloadType: 'application/vnd.in-toto+json',
    payload: payload.toString('base64'),
    signatures: [{ keyid: '', sig: sig.toString('base64') }],
  });
}

describe('the signed subject policy statement on a real cluster and registry', () => {
  let env: LocalEnv;
  let child: ChildProcess;
  let api: { base: string; cert: TestCert; token: string };
  let dir: string;
  let policyText: string;
  const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const publicKeyPem = keys.publicKey.export({ format: 'pem', type: 'spki' }).toString();
  const logs: string[] = [];

  beforeAll(async () => {
    env = loadLocalEnv();
    await putSigningSecret(env, {
      'x509.pem': keys.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    });
    dir = mkdtempSync(join(tmpdir(), 'policy-statement-'));
    writeFileSync(join(dir, 'pub.pem'), publicKeyPem);
    const [port, apiPort] = [await freePort(), await freePort()];
    const cert = writeTestCert(dir);
    await ensureApiReaders();
    api = { base: `https://127.0.0.1:${apiPort}`, cert, token: await apiToken('tenantB') };
    policyText = stringify({
      rules: [
        { name: 'tenant-a', namespaces: ['tenant-a'], repositories: [`${env.registry}/tenant-a/**`] },
        { name: 'tenant-b', namespaces: ['tenant-b'], repositories: [`${env.registry}/tenant-b/**`] },
      ],
    });
    const config = {
      'index.path': join(dir, 'index.db'),
      'http.host': '127.0.0.1',
      'http.port': String(port),
      'api.host': '127.0.0.1',
      'api.port': String(apiPort),
      'api.tls-cert-file': cert.certFile,
      'api.tls-key-file': cert.keyFile,
      'storage.oci.insecure-registries': env.registry,
      'storage.oci.allowed-private-registries': '127.0.0.1',
      'observer.namespaces': 'tenant-a,tenant-b',
      'attestation.subject-policy': policyText,
      'policy-statement.validity-seconds': '3600',
    };
    writeFileSync(join(dir, 'config.yaml'), stringify(config));
    child = spawn(
      process.execPath,
      [BIN, 'run', '--config', join(dir, 'config.yaml'), '--kubeconfig', env.kubeconfigs.observer],
      { env: { ...process.env, POD_NAMESPACE: env.observerNamespace }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout?.on('data', (d: Buffer) => logs.push(d.toString()));
    child.stderr?.on('data', (d: Buffer) => logs.push(d.toString()));
    await waitFor('the observer to be ready', async () =>
      (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.ok ? true : undefined,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${logs.join('')}`);
    });
  }, 120_000);

  afterAll(() => {
    child?.kill('SIGTERM');
  });

  it('served on the API and in the ConfigMap, signed by the platform key; verify accepts an honest run and refuses the rest', {
    timeout: 180_000,
  }, async () => {
    // the statement, from the API (exactly the bytes signed) and from the ConfigMap
    const served = await waitFor('the policy statement', async () => {
      const a = await apiGet(api.base, api.cert.certPem, '/api/v1/policy-statement', api.token);
      return a.status === 200 ? a.text : undefined;
    });
    expect((await apiGet(api.base, api.cert.certPem, '/api/v1/policy-statement')).status).toBe(401);
    const cm = await waitFor('the statement ConfigMap', async () => {
      const c = await kubeConfigFor('admin')
        .makeApiClient(CoreV1Api)
        .readNamespacedConfigMap({ namespace: env.observerNamespace, name: 'subject-policy-statement' });
      return c.data?.statement || undefined;
    });
    expect(cm).toBe(served);
    expect(opensslVerifiesEnvelope(served, publicKeyPem)).toBe(true);
    const statement = JSON.parse(Buffer.from(JSON.parse(served).payload, 'base64').toString());
    expect(statement.predicateType).toBe('https://provenance-observer.dev/subject-policy/v1');
    expect(statement.predicate.rules.map((r: { name: string }) => r.name)).toEqual(['tenant-a', 'tenant-b']);
    writeFileSync(join(dir, 'statement.json'), served);

    // an honest tenant-b run, attested by the observer; its envelope from the API
    const name = `honest-${Date.now().toString(36)}`;
    const image = await pushTestImage(env.registry, `tenant-b/app-${name}`);
    await completeBuildTaskRun(image, { name, namespace: 'tenant-b' });
    await waitFor('the run signed', async () => {
      const run = await getRun(kubeConfigFor('admin'), 'TaskRun', 'tenant-b', name);
      return run.metadata.annotations?.['chains.tekton.dev/signed'] === 'true' ? true : undefined;
    }).catch((err: Error) => {
      throw new Error(`${err.message}\n${logs.join('')}`);
    });
    const runView = await apiGet(
      api.base,
      api.cert.certPem,
      `/api/v1/runs/tenant-b/taskruns/${name}`,
      api.token,
    );
    const [attestation] = runView.json<{ attestations: { id: string; type: string }[] }>().attestations;
    const envelope = await apiGet(
      api.base,
      api.cert.certPem,
      `/api/v1/attestations/${attestation?.id}/envelope`,
      api.token,
    );
    expect(envelope.status).toBe(200);
    writeFileSync(join(dir, 'honest.json'), envelope.text);
    const pub = join(dir, 'pub.pem');
    const honest = await verify([
      '--key',
      pub,
      '--envelope',
      join(dir, 'honest.json'),
      '--policy-statement',
      join(dir, 'statement.json'),
    ]);
    expect(honest.out).toContain(
      `ok   subject ${env.registry}/tenant-b/app-${name} allowed for namespace tenant-b`,
    );
    expect(honest.code).toBe(0);

    // the same provenance claiming namespace tenant-a, signed by the platform key: refused by the policy only
    const payload = JSON.parse(Buffer.from(JSON.parse(envelope.text).payload, 'base64').toString());
    // the default format is Chains' slsa/v1 (= v0.2): the namespace is in invocation.environment
    const identity =
      payload.predicate.invocation?.environment ?? payload.predicate.buildDefinition.internalParameters;
    expect(identity.namespace).toBe('tenant-b');
    identity.namespace = 'tenant-a';
    writeFileSync(join(dir, 'other-ns.json'), envelopeOf(payload, keys.privateKey));
    const otherNs = await verify([
      '--key',
      pub,
      '--envelope',
      join(dir, 'other-ns.json'),
      '--policy-statement',
      join(dir, 'statement.json'),
    ]);
    expect(otherNs.code).toBe(1);
    expect(otherNs.out).toContain('ok   dsse signature');
    expect(otherNs.out).toMatch(
      new RegExp(
        `FAIL subject ${env.registry}/tenant-b/app-${name} allowed for namespace tenant-a: namespace tenant-a may not claim`,
      ),
    );

    // an expired statement of the same policy, signed by the platform key
    const expired = buildPolicyStatement(parseSubjectPolicy(policyText), {
      issuedAt: new Date(Date.now() - 7200_000),
      validitySeconds: 3600,
    });
    writeFileSync(join(dir, 'expired.json'), envelopeOf(expired.statement, keys.privateKey));
    const old = await verify([
      '--key',
      pub,
      '--envelope',
      join(dir, 'honest.json'),
      '--policy-statement',
      join(dir, 'expired.json'),
    ]);
    expect(old.code).toBe(1);
    expect(old.out).toMatch(/FAIL policy statement validity: expired at/);

    // the served statement re-signed by another key: refused, and openssl agrees
    const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const forged = envelopeOf(statement, stranger);
    expect(opensslVerifiesEnvelope(forged, publicKeyPem)).toBe(false);
    writeFileSync(join(dir, 'forged.json'), forged);
    const other = await verify([
      '--key',
      pub,
      '--envelope',
      join(dir, 'honest.json'),
      '--policy-statement',
      join(dir, 'forged.json'),
    ]);
    expect(other.code).toBe(1);
    expect(other.out).toMatch(/FAIL policy statement signature: no signature verifies with key/);
  });
});
