import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Identity } from './local-env.ts';

export interface IdentitySpec {
  user: string;
  /** groups besides system:authenticated, which the apiserver adds itself */
  groups: string[];
}

/** Who each LocalEnv identity is to the apiserver (static token file, --token-auth-file). */
export const IDENTITIES: Record<Identity, IdentitySpec> = {
  admin: { user: 'admin', groups: ['system:masters'] },
  observer: {
    user: 'system:serviceaccount:provenance-observer:provenance-observer',
    groups: ['system:serviceaccounts', 'system:serviceaccounts:provenance-observer'],
  },
  tenantA: { user: 'tenant-a-dev', groups: [] },
  tenantB: { user: 'tenant-b-dev', groups: [] },
  tenantABuild: {
    user: 'system:serviceaccount:tenant-a:pipeline',
    groups: ['system:serviceaccounts', 'system:serviceaccounts:tenant-a'],
  },
};

export const IDENTITY_NAMES = Object.keys(IDENTITIES) as Identity[];

/** Fresh random bearer tokens, one per identity (a new set for every environment). */
export function newTokens(): Record<Identity, string> {
  return Object.fromEntries(IDENTITY_NAMES.map((id) => [id, randomBytes(24).toString('hex')])) as Record<
    Identity,
    string
  >;
}

/** The apiserver's static token file: `token,user,uid,"group1,group2"` per line. */
export function writeTokenFile(path: string, tokens: Record<Identity, string>): void {
  const lines = IDENTITY_NAMES.map((id) => {
    const { user, groups } = IDENTITIES[id];
    return `${tokens[id]},${user},${user},"${groups.join(',')}"`;
  });
  writeFileSync(path, `${lines.join('\n')}\n`, { mode: 0o600 });
}

/** Writes one kubeconfig per identity into `dir` (token auth, TLS verification skipped: self-signed). */
export function writeKubeconfigs(
  dir: string,
  server: string,
  tokens: Record<Identity, string>,
  namespaceOf: (id: Identity) => string,
): Record<Identity, string> {
  const paths = {} as Record<Identity, string>;
  for (const id of IDENTITY_NAMES) {
    const path = join(dir, `kubeconfig-${id}.yaml`);
    writeFileSync(path, stringify(kubeconfig(id, server, tokens[id], namespaceOf(id))), { mode: 0o600 });
    paths[id] = path;
  }
  return paths;
}

function kubeconfig(id: Identity, server: string, token: string, namespace: string): object {
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'local', cluster: { server, 'insecure-skip-tls-verify': true } }],
    users: [{ name: id, user: { token } }],
    contexts: [{ name: id, context: { cluster: 'local', user: id, namespace } }],
    'current-context': id,
  };
}
