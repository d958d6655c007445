import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiException, CoreV1Api } from '@kubernetes/client-node';
import { type RunningObserver, startObserver } from '../../src/cli/observer.ts';
import { type KubeAccess, parseConfig, readConfigSource } from '../../src/config/index.ts';
import { createLogger, createMetrics, type Metrics } from '../../src/observability/index.ts';
import { kubeAccessFor, kubeConfigFor, type LocalEnv } from '../env/index.ts';
import { type ApiAnswer, apiGet } from './api-client.ts';
import { recommendedArtifactSettings } from './deploy-settings.ts';
import { type TestCert, writeTestCert } from './tls-cert.ts';

export interface TestObserver {
  observer: RunningObserver;
  metrics: Metrics;
  publicKeyPem: string;
  /** everything the service logged, for secret-leak checks */
  logs: () => string;
  /** the lookup API's throwaway certificate (files and PEM) */
  apiCert: TestCert;
  /** GET `path` (e.g. `/api/v1/keys`) from the lookup API over TLS, trusting `apiCert` */
  api: (path: string, token?: string) => Promise<ApiAnswer>;
  stop(): Promise<void>;
}

/**
 * Puts a fresh ECDSA P-256 key into Secret signing-secrets (as the cluster admin: tenants cannot),
 * then starts the observer in-process as the observer identity, whose only rights are deploy/'s RBAC.
 * Probes and metrics are on `observer.address` (plain HTTP), the lookup API on `observer.apiAddress`
 * (TLS with a throwaway certificate made here, files checked every second; `api` calls it).
 */
export async function startTestObserver(
  env: LocalEnv,
  config: Record<string, string> = {},
  kubeAccess: KubeAccess = kubeAccessFor('observer'),
  /**
   * dockerConfig: the observer's own registry credentials (a docker config.json), default none;
   * key: a key to sign with instead of a fresh one (a restarted observer keeps its key);
   * configDir: a config directory (or file) read beneath `config` and re-read every second, as
   * `run --config` does (config/reload)
   */
  options: { dockerConfig?: object; key?: KeyObject; configDir?: string } = {},
): Promise<TestObserver> {
  const privateKey = options.key ?? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const publicKey = createPublicKey(privateKey);
  const pkcs8 = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  const publicKeyPem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
  await putSigningSecret(env, { 'x509.pem': pkcs8, 'cosign.pub': publicKeyPem });
  const lines: string[] = [];
  const logger = createLogger({
    level: 'debug',
    destination: { write: (line: string) => void lines.push(line) },
  });
  const metrics = createMetrics();
  const dir = mkdtempSync(join(tmpdir(), 'observer-'));
  if (options.dockerConfig) writeFileSync(join(dir, 'config.json'), JSON.stringify(options.dockerConfig));
  const apiCert = writeTestCert(dir);
  const overrides = {
    // deploy/'s recommended formats and storage (the defaults are Chains': in-toto, tekton only)
    // (not over keys a mounted config directory sets: the test changes those there)
    ...Object.fromEntries(
      Object.entries(recommendedArtifactSettings()).filter(
        ([key]) => !(options.configDir && key in readConfigSource(options.configDir)),
      ),
    ),
    'index.path': join(dir, 'index.db'),
    'http.host': '127.0.0.1',
    'http.port': '0',
    'api.host': '127.0.0.1',
    'api.port': '0',
    'api.tls-cert-file': apiCert.certFile,
    'api.tls-key-file': apiCert.keyFile,
    'api.tls-reload-seconds': '1',
    'storage.oci.insecure-registries': `${env.registry},${env.tokenRegistry.address}`,
    'storage.oci.allowed-private-registries': '127.0.0.1',
    'signing.secret.poll-seconds': '1',
    'config.reload-seconds': '1',
    ...config,
  };
  const { configDir } = options;
  const namespace = env.observerNamespace;
  const initial = configDir ? readConfigSource(configDir) : undefined;
  const observer = await startObserver({
    config: parseConfig({ ...initial, ...overrides }, { namespace }),
    kubeAccess,
    logger,
    metrics,
    dockerConfigDir: dir,
    reloadFrom: configDir ? { path: configDir, overrides, initial, namespace } : undefined,
  });
  const base = observer.apiAddress ?? '';
  return {
    observer,
    metrics,
    publicKeyPem,
    logs: () => lines.join(''),
    apiCert,
    api: (path, token) => apiGet(base, apiCert.certPem, path, token),
    stop: () => observer.stop(),
  };
}

/** Creates or replaces Secret signing-secrets in the observer's namespace. */
export async function putSigningSecret(env: LocalEnv, data: Record<string, string>): Promise<void> {
  const api = kubeConfigFor('admin').makeApiClient(CoreV1Api);
  const body = {
    metadata: { name: 'signing-secrets', namespace: env.observerNamespace },
    stringData: data,
    type: 'Opaque',
  };
  try {
    await api.deleteNamespacedSecret({ name: 'signing-secrets', namespace: env.observerNamespace });
  } catch (err) {
    if (!(err instanceof ApiException && err.code === 404)) throw err;
  }
  await api.createNamespacedSecret({ namespace: env.observerNamespace, body });
}
