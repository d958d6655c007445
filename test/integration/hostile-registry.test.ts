import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeConfigFor, type LocalEnv, loadLocalEnv } from '../env/index.ts';
import { apiGet } from '../helpers/api-client.ts';
import { apiToken, ensureApiReaders } from '../helpers/api-tokens.ts';
import { asInContainer, deploySettings, recommendedArtifactSettings } from '../helpers/deploy-settings.ts';
import {
  type HostileRegistry,
  MARKER,
  type Scenario,
  startHostileRegistry,
} from '../helpers/hostile-registry.ts';
import { putSigningSecret } from '../helpers/observer.ts';
import { completeBuildTaskRun, getRun, runEvents, waitFor } from '../helpers/tekton.ts';
import { pushTestImage } from '../helpers/test-image.ts';
import { type TestCert, writeTestCert } from '../helpers/tls-cert.ts';

/**
 * A tenant's registry attacks the observer while another tenant keeps building. The observer runs
 * as a child process (its RSS is its own) with the image's V8 flags, configured as in production
 * (circuit breaker included) except that 127.0.0.1 is listed as an allowed private registry (the
 * real registry and the attacker both live there) and the per-request timeout is 2 s instead of
 * 30 s. Each attack comes from its own registry host (port). 127.0.0.2 stands for every address the
 * observer must never reach (a realm, a redirect target). RSS is measured against the idle level
 * taken once, after a warm-up and before the first attack.
 */
const SIGNED = 'chains.tekton.dev/signed';
const RSS_BUDGET_MB = 64;

const rssMb = (pid: number) =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

/** tenant-b's run over an image in the real registry, completed now. */
async function completeTenantBRun(env: LocalEnv, name: string): Promise<void> {
  const image = await pushTestImage(env.registry, `tenant-b/app-${name}`);
  await completeBuildTaskRun(image, { name, namespace: 'tenant-b' });
}

const signedState = async (namespace: string, name: string) =>
  (await getRun(kubeConfigFor('admin'), 'TaskRun', namespace, name)).metadata.annotations?.[SIGNED];

describe('a hostile registry cannot hurt the observer or another tenant', () => {
  let env: LocalEnv;
  let hostile: HostileRegistry;
  let child: ChildProcess;
  let base: string;
  let api: { base: string; cert: TestCert; token: string };
  let idleMb: number;
  const logs: string[] = [];

  beforeAll(async () => {
    env = loadLocalEnv();
    hostile = await startHostileRegistry();
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await putSigningSecret(env, {
      'x509.pem': privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      'cosign.pub': publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    });
    const dir = mkdtempSync(join(tmpdir(), 'hostile-observer-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const apiPort = await freePort();
    const cert = writeTestCert(dir);
    await ensureApiReaders();
    api = { base: `https://127.0.0.1:${apiPort}`, cert, token: await apiToken('tenantA') };
    const config = {
      ...recommendedArtifactSettings(),
      'index.path': join(dir, 'index.db'),
      'http.host': '127.0.0.1',
      'http.port': String(port),
      'api.host': '127.0.0.1',
      'api.port': String(apiPort),
      'api.tls-cert-file': cert.certFile,
      'api.tls-key-file': cert.keyFile,
      'storage.oci.insecure-registries': [env.registry, ...Object.values(hostile.hosts)].join(','),
      'storage.oci.allowed-private-registries': '127.0.0.1',
      'storage.oci.request-timeout-seconds': '2',
      'attestation.max-attempts': '1',
      'signing.secret.poll-seconds': '1',
    };
    const file = join(dir, 'config.yaml');
    writeFileSync(
      file,
      Object.entries(config)
        .map(([k, v]) => `${k}: "${v}"`)
        .join('\n'),
    );
    child = spawn(
      process.execPath,
      [
        // the heap flags the pod runs with, as node applies them under deploy/'s memory limit
        ...asInContainer(deploySettings()),
        'bin/provenance-observer.js',
        'run',
        '--config',
        file,
        '--kubeconfig',
        env.kubeconfigs.observer,
      ],
      {
        env: { ...process.env, POD_NAMESPACE: env.observerNamespace, NODE_EXTRA_CA_CERTS: hostile.caFile },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout?.on('data', (d: Buffer) => logs.push(d.toString()));
    child.stderr?.on('data', (d: Buffer) => logs.push(d.toString()));
    await waitFor('the observer to be ready', async () =>
      (await fetch(`${base}/readyz`).catch(() => undefined))?.ok ? true : undefined,
    );
    // warm up (JIT, connection pools, the index) with a few ordinary runs, then take the idle level
    const warm = [1, 2, 3].map((i) => `warm-${i}-${Date.now()}`);
    await Promise.all(warm.map((name) => completeTenantBRun(env, name)));
    for (const name of warm)
      await waitFor('the warm-up runs signed', async () =>
        (await signedState('tenant-b', name)) === 'true' ? 1 : undefined,
      );
    idleMb = rssMb(child.pid as number);
  }, 180_000);

  afterAll(() => {
    child?.kill('SIGTERM');
    hostile?.close();
  });

  // each from its own host: one attack's failures count toward its own host's circuit only
  const cases: [Scenario, RegExp, 'host' | 'tls'][] = [
    ['gzip-bomb', /registry_content_encoding/, 'host'],
    ['oversized-manifest', /registry_body_too_large/, 'host'],
    ['many-layers', /registry_too_many_layers/, 'host'],
    ['realm-elsewhere', /registry_realm_forbidden/, 'host'],
    ['redirect-elsewhere', /registry_redirect_forbidden/, 'host'],
    ['https-to-http', /registry_redirect_forbidden/, 'tls'],
    ['garbage-auth', /registry_denied/, 'host'],
    ['slow', /registry_timeout|registry_circuit_open/, 'host'],
    ['error-body', /registry_server_error|registry_circuit_open/, 'host'],
  ];

  it.each(cases)(
    '%s: failed with %s, bounded memory, nothing leaked, tenant-b unharmed',
    async (scenario, reason, which) => {
      const registry = which === 'tls' ? hostile.tlsHost : hostile.hosts[scenario];
      const digest = `sha256:${randomBytes(32).toString('hex')}`;
      const name = `hostile-${scenario}-${Date.now()}`;
      const beforeMb = rssMb(child.pid as number);
      let peakMb = beforeMb;
      const sampler = setInterval(() => {
        peakMb = Math.max(peakMb, rssMb(child.pid as number));
      }, 50);
      try {
        await completeBuildTaskRun({ ref: `${registry}/${scenario}/app:v1`, digest }, { name });
        const other = `neighbour-${scenario}-${Date.now()}`;
        const otherCompleted = Date.now();
        await completeTenantBRun(env, other);
        // the issue allows either: the run fails with the reason, or the hostile subject is left out
        // (the existence check's HEAD already met the attack) and the run is attested without it
        const outcome = await waitFor(`signed=failed or true on ${name}`, async () => {
          const state = await signedState('tenant-a', name);
          return state === 'failed' || state === 'true' ? state : undefined;
        });
        const expectedEvent = outcome === 'failed' ? 'AttestationFailed' : 'InputSkipped';
        await waitFor(
          `tenant-b's ${other} signed`,
          async () => ((await signedState('tenant-b', other)) === 'true' ? 1 : undefined),
          20_000,
        );
        expect(Date.now() - otherCompleted).toBeLessThan(20_000);
        const events = await waitFor(`the ${expectedEvent} event`, async () => {
          const all = await runEvents(kubeConfigFor('admin'), 'tenant-a', name);
          return all.some((e) => e.reason === expectedEvent) ? all : undefined;
        });
        const failed = events.find((e) => e.reason === expectedEvent)?.message ?? '';
        // left out: the existence HEAD met the attack (its reason), or got a plain refusal
        expect(failed).toMatch(
          outcome === 'failed' ? reason : new RegExp(`${reason.source}|subject_unreadable`),
        );
        expect(failed).toContain(registry);
        const run = await getRun(kubeConfigFor('admin'), 'TaskRun', 'tenant-a', name);
        const tenantVisible = JSON.stringify([events.map((e) => e.message), run.metadata.annotations]);
        expect(tenantVisible).not.toContain(MARKER);
        expect(tenantVisible).not.toContain('HTTP ');
        // the lookup API (TLS, a tenant-a token for its audience) shows the reason, never the body
        const answer = await apiGet(
          api.base,
          api.cert.certPem,
          `/api/v1/runs/tenant-a/taskruns/${name}`,
          api.token,
        );
        expect(answer.status).toBe(200);
        if (outcome === 'failed') expect(answer.text).toMatch(reason);
        expect(answer.text).not.toContain(MARKER);
        expect(answer.text).not.toContain('HTTP ');
      } finally {
        clearInterval(sampler);
      }
      expect(peakMb - idleMb).toBeLessThan(RSS_BUDGET_MB);
      expect(hostile.forbiddenConnections()).toBe(0);
      expect(hostile.downgradedRequests()).toBe(0);
      console.info(
        `${scenario}: RSS idle ${idleMb.toFixed(0)} MB, before ${beforeMb.toFixed(0)} MB, peak ${peakMb.toFixed(0)} MB`,
      );
    },
  );

  it('the detail went to the observer log (where operators read it), not to tenants', () => {
    expect(logs.join('')).toContain('registry_body_too_large');
  });
});
