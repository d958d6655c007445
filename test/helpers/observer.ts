import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiException, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { type RunningObserver, startObserver } from '../../src/cli/observer.ts';
import { parseConfig } from '../../src/config/index.ts';
import { createLogger, createMetrics, type Metrics } from '../../src/observability/index.ts';
import { kubeConfigFor, type LocalEnv } from '../env/index.ts';

export interface TestObserver {
  observer: RunningObserver;
  metrics: Metrics;
  publicKeyPem: string;
  /** everything the service logged, for secret-leak checks */
  logs: () => string;
  stop(): Promise<void>;
}

/**
 * Puts a fresh ECDSA P-256 key into Secret signing-secrets (as the cluster admin: tenants cannot),
 * then starts the observer in-process as the observer identity, whose only rights are deploy/'s RBAC.
 */
export async function startTestObserver(
  env: LocalEnv,
  config: Record<string, string> = {},
  kubeConfig: KubeConfig = kubeConfigFor('observer'),
  /**
   * dockerConfig: the observer's own registry credentials (a docker config.json), default none;
   * key: a key to sign with instead of a fresh one (a restarted observer keeps its key)
   */
  options: { dockerConfig?: object; key?: KeyObject } = {},
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
  const observer = await startObserver({
    config: parseConfig(
      {
        'index.path': join(dir, 'index.db'),
        'http.host': '127.0.0.1',
        'http.port': '0',
        'storage.oci.insecure-registries': `${env.registry},${env.tokenRegistry.address}`,
        'signing.secret.poll-seconds': '1',
        ...config,
      },
      { namespace: env.observerNamespace },
    ),
    kubeConfig,
    logger,
    metrics,
    dockerConfigDir: dir,
  });
  return { observer, metrics, publicKeyPem, logs: () => lines.join(''), stop: () => observer.stop() };
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
