import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadKubeConfig, tokenFromFile } from '../../../src/config/index.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const CA = '-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n';
const CERT = '-----BEGIN CERTIFICATE-----\nclient\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nkey\n-----END PRIVATE KEY-----\n';

/** A kubeconfig whose current context `ctx` uses cluster `c` and user `u`, written to a new temp dir. */
function kubeconfig(cluster: object, user: object): { dir: string; path: string } {
  const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-'));
  const path = join(dir, 'config');
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: 'other', cluster: { server: 'https://wrong.example' } },
      { name: 'c', cluster },
    ],
    users: [{ name: 'u', user }],
    contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u', namespace: 'ns' } }],
    'current-context': 'ctx',
  };
  writeFileSync(path, stringify(doc));
  return { dir, path };
}

describe('loadKubeConfig from a kubeconfig file', () => {
  it("reads the current context's cluster and client certificate from -data fields", () => {
    const { path } = kubeconfig(
      {
        server: 'https://10.0.0.1:6443',
        'certificate-authority-data': b64(CA),
        'tls-server-name': 'kubernetes',
      },
      { 'client-certificate-data': b64(CERT), 'client-key-data': b64(KEY) },
    );
    const access = loadKubeConfig({ path });
    expect(access).toMatchObject({
      server: 'https://10.0.0.1:6443',
      ca: CA,
      cert: CERT,
      key: KEY,
      tlsServerName: 'kubernetes',
      source: path,
    });
    expect(access.insecureSkipTlsVerify).toBeUndefined();
    expect(access.token).toBeUndefined();
  });

  it('reads certificate files relative to the kubeconfig, and a token', () => {
    const { dir, path } = kubeconfig(
      { server: 'https://k8s.example', 'certificate-authority': 'ca.crt' },
      { token: 'static-token' },
    );
    writeFileSync(join(dir, 'ca.crt'), CA);
    const access = loadKubeConfig({ path });
    expect(access.ca).toBe(CA);
    expect(access.token?.()).toBe('static-token');
  });

  it('re-reads a tokenFile once the copy is older than its maximum age', () => {
    const { dir, path } = kubeconfig(
      { server: 'https://k8s.example', 'insecure-skip-tls-verify': true },
      {
        tokenFile: 'token',
      },
    );
    writeFileSync(join(dir, 'token'), 'first\n');
    const access = loadKubeConfig({ path });
    expect(access.insecureSkipTlsVerify).toBe(true);
    expect(access.token?.()).toBe('first');
    let now = 0;
    const token = tokenFromFile(join(dir, 'token'), { maxAgeMs: 60_000, now: () => now });
    expect(token()).toBe('first');
    writeFileSync(join(dir, 'token'), 'rotated\n');
    now = 59_999;
    expect(token()).toBe('first');
    now = 60_000;
    expect(token()).toBe('rotated');
  });

  it.each([
    [{ exec: { command: 'aws', apiVersion: 'client.authentication.k8s.io/v1' } }, 'exec credential plugins'],
    [{ 'auth-provider': { name: 'oidc' } }, 'auth-provider plugins'],
    [{ username: 'admin', password: 'secret' }, 'basic authentication (username/password)'],
    [{ as: 'someone', token: 't' }, 'impersonation (as)'],
  ])('refuses a user with an unsupported feature, naming it (%o)', (user, feature) => {
    const { path } = kubeconfig({ server: 'https://k8s.example' }, user);
    expect(() => loadKubeConfig({ path })).toThrow(
      expect.objectContaining({
        code: 'config_invalid',
        message: expect.stringContaining(`user "u" uses ${feature}, which is not supported`),
      }),
    );
    // the password itself is never quoted
    expect(() => loadKubeConfig({ path })).toThrow(
      expect.not.objectContaining({ message: expect.stringContaining('secret') }),
    );
  });

  it('names what is missing: the current context, the cluster, a key without its certificate', () => {
    const { path } = kubeconfig({ server: 'https://k8s.example' }, { 'client-key-data': b64(KEY) });
    expect(() => loadKubeConfig({ path })).toThrow(/client certificate or key without the other/);
    const bad = join(mkdtempSync(join(tmpdir(), 'kubeconfig-')), 'config');
    writeFileSync(bad, stringify({ clusters: [], 'current-context': 'nowhere' }));
    expect(() => loadKubeConfig({ path: bad })).toThrow(/no context named "nowhere"/);
    expect(() => loadKubeConfig({ path: join(tmpdir(), 'no-such-kubeconfig') })).toThrow(
      expect.objectContaining({ code: 'config_invalid' }),
    );
  });

  it('takes the first existing file of KUBECONFIG before ~/.kube/config', () => {
    const { path } = kubeconfig({ server: 'https://from-env.example' }, { token: 't' });
    const home = mkdtempSync(join(tmpdir(), 'home-'));
    mkdirSync(join(home, '.kube'));
    writeFileSync(
      join(home, '.kube', 'config'),
      stringify({
        clusters: [{ name: 'c', cluster: { server: 'https://from-home.example' } }],
        contexts: [{ name: 'x', context: { cluster: 'c' } }],
        'current-context': 'x',
      }),
    );
    const env = { KUBECONFIG: `${join(home, 'missing')}:${path}`, KUBERNETES_SERVICE_HOST: '10.96.0.1' };
    expect(loadKubeConfig({ env, home }).server).toBe('https://from-env.example');
    expect(loadKubeConfig({ env: { KUBERNETES_SERVICE_HOST: '10.96.0.1' }, home }).server).toBe(
      'https://from-home.example',
    );
  });
});

describe('loadKubeConfig in a pod', () => {
  const serviceAccount = () => {
    const dir = mkdtempSync(join(tmpdir(), 'serviceaccount-'));
    writeFileSync(join(dir, 'token'), 'projected-1');
    writeFileSync(join(dir, 'ca.crt'), CA);
    return dir;
  };
  const home = () => mkdtempSync(join(tmpdir(), 'home-'));

  it('uses KUBERNETES_SERVICE_HOST/PORT, the mounted CA and the projected token', () => {
    const dir = serviceAccount();
    const env = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '6443' };
    const access = loadKubeConfig({ env, home: home(), serviceAccountDir: dir });
    expect(access).toMatchObject({ server: 'https://10.96.0.1:6443', ca: CA, source: 'in-cluster' });
    expect(access.token?.()).toBe('projected-1');
    const v6 = loadKubeConfig({
      env: { KUBERNETES_SERVICE_HOST: 'fd00::1' },
      home: home(),
      serviceAccountDir: dir,
    });
    expect(v6.server).toBe('https://[fd00::1]:443');
  });

  it('fails naming the token file when it is not mounted, and when nothing is configured at all', () => {
    const dir = mkdtempSync(join(tmpdir(), 'serviceaccount-'));
    expect(() =>
      loadKubeConfig({ env: { KUBERNETES_SERVICE_HOST: '10.96.0.1' }, home: home(), serviceAccountDir: dir }),
    ).toThrow(
      expect.objectContaining({
        code: 'config_invalid',
        message: expect.stringContaining(join(dir, 'token')),
      }),
    );
    expect(() => loadKubeConfig({ env: {}, home: home() })).toThrow(/no kubeconfig/);
  });
});
