import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * The contract of `.local/env/env.json`, written by `npm run env:up` (test/env) and read by
 * integration tests, the demo and the bench. All servers listen on 127.0.0.1.
 */
export type Identity = 'admin' | 'observer' | 'tenantA' | 'tenantB' | 'tenantABuild';

export interface LocalEnv {
  /** kube-apiserver base URL, https://127.0.0.1:<port> (self-signed; kubeconfigs skip TLS verify) */
  apiserver: string;
  /** absolute kubeconfig path per identity:
   *  admin        cluster admin (system:masters)
   *  observer     system:serviceaccount:provenance-observer:provenance-observer, RBAC from deploy/
   *  tenantA      tenant-a-dev, edits runs in namespace tenant-a only
   *  tenantB      tenant-b-dev, edits runs in namespace tenant-b only
   *  tenantABuild system:serviceaccount:tenant-a:pipeline, a tenant's build service account */
  kubeconfigs: Record<Identity, string>;
  /** bearer token per identity (the same identities as the kubeconfigs) */
  tokens: Record<Identity, string>;
  /** the observer's own namespace, holding Secret signing-secrets */
  observerNamespace: string;
  tenantNamespaces: string[];
  /** anonymous plain-HTTP registry, host:port */
  registry: string;
  /** plain-HTTP registry with Bearer token auth (token server beside it) */
  /** `tenantA`: tenant-a's own account, granted repositories under `tenant-a/` only */
  tokenRegistry: {
    address: string;
    username: string;
    password: string;
    tenantA: { username: string; password: string; prefix: string };
  };
  /** PostgreSQL 15 superuser URL, postgres://postgres:<password>@127.0.0.1:<port>/postgres (TLS optional) */
  postgresUrl: string;
  /** CA file that verifies the PostgreSQL server certificate (127.0.0.1, localhost) */
  postgresCaFile: string;
  /** where component logs are */
  logsDir: string;
}

export const ENV_FILE = resolve(import.meta.dirname, '../../.local/env/env.json');

export function loadLocalEnv(path = ENV_FILE): LocalEnv {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LocalEnv;
  } catch (err) {
    throw new Error(
      `no local environment at ${path}: run "npm run env:up" first (${(err as Error).message})`,
    );
  }
}
