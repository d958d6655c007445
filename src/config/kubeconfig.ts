import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { ObserverError } from '../errors.ts';
import type { KubeAccess } from './kube-access.ts';
import { readKubeconfigFile } from './kubeconfig-file.ts';
import { tokenFromFile } from './token-file.ts';

/** Where the kubelet mounts a pod's service account (token, ca.crt). */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface LoadKubeConfigOptions {
  /** a kubeconfig file (`--kubeconfig`); wins over everything else */
  path?: string;
  /** default process.env (KUBECONFIG, KUBERNETES_SERVICE_HOST/PORT) */
  env?: Record<string, string | undefined>;
  /** default the user's home directory (for ~/.kube/config) */
  home?: string;
  /** default SERVICE_ACCOUNT_DIR */
  serviceAccountDir?: string;
  /** how long a token read from a file is used before it is read again; default 60 s */
  tokenMaxAgeMs?: number;
}

/**
 * How to reach the apiserver, in client-go's order (clientcmd's loading rules, then
 * rest.InClusterConfig): the file given; else the first existing file of `KUBECONFIG` (a list of
 * paths; they are not merged, unlike kubectl); else `~/.kube/config`; else the in-cluster service
 * account. Nothing found, or a file we cannot use, is a config_invalid error naming it.
 */
export function loadKubeConfig(options: LoadKubeConfigOptions = {}): KubeAccess {
  const env = options.env ?? process.env;
  const token = { maxAgeMs: options.tokenMaxAgeMs };
  if (options.path) return readKubeconfigFile(options.path, token);
  const listed = (env.KUBECONFIG ?? '').split(delimiter).filter(Boolean);
  const file = [...listed, join(options.home ?? homedir(), '.kube', 'config')].find((p) => existsSync(p));
  if (file) return readKubeconfigFile(file, token);
  if (env.KUBERNETES_SERVICE_HOST)
    return inCluster(env, options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR, token);
  throw new ObserverError(
    'no kubeconfig: pass --kubeconfig, set KUBECONFIG, create ~/.kube/config or run in a pod (KUBERNETES_SERVICE_HOST)',
    { code: 'config_invalid', retryable: false },
  );
}

/**
 * The pod's service account (client-go rest.InClusterConfig): `https://$KUBERNETES_SERVICE_HOST:
 * $KUBERNETES_SERVICE_PORT`, the mounted ca.crt, and the projected token, re-read as it rotates.
 */
function inCluster(
  env: Record<string, string | undefined>,
  dir: string,
  tokenOptions: { maxAgeMs?: number },
): KubeAccess {
  const host = env.KUBERNETES_SERVICE_HOST ?? '';
  const port = env.KUBERNETES_SERVICE_PORT || '443';
  const fail = (why: string, cause?: unknown) =>
    new ObserverError(`in-cluster config: ${why}`, { code: 'config_invalid', retryable: false, cause });
  const token = tokenFromFile(join(dir, 'token'), tokenOptions);
  try {
    token();
  } catch (err) {
    throw fail((err as Error).message, err);
  }
  let ca: string;
  try {
    ca = readFileSync(join(dir, 'ca.crt'), 'utf8');
  } catch (err) {
    throw fail(`reading ${join(dir, 'ca.crt')}: ${(err as Error).message}`, err);
  }
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return { server, ca, token, source: 'in-cluster' };
}
