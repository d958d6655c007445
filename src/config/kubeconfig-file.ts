import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';
import { ObserverError } from '../errors.ts';
import type { KubeAccess } from './kube-access.ts';
import { tokenFromFile } from './token-file.ts';

type Entry = Record<string, unknown>;

/**
 * User fields we do not implement, with what to use instead. kubectl's exec and auth-provider
 * plugins run programs; basic auth and impersonation are rare for a controller. Refusing them
 * names the feature instead of failing later with a 401.
 */
const UNSUPPORTED_USER_FIELDS: Record<string, string> = {
  exec: 'exec credential plugins',
  'auth-provider': 'auth-provider plugins',
  username: 'basic authentication (username/password)',
  password: 'basic authentication (username/password)',
  as: 'impersonation (as)',
  'as-uid': 'impersonation (as-uid)',
  'as-groups': 'impersonation (as-groups)',
  'as-user-extra': 'impersonation (as-user-extra)',
};

/**
 * The current context of a kubeconfig file (clientcmd's v1 Config, k8s.io/client-go
 * tools/clientcmd/api/v1/types.go): its cluster's server, certificate-authority(-data),
 * insecure-skip-tls-verify and tls-server-name; its user's client-certificate(-data),
 * client-key(-data), token and tokenFile (re-read as it rotates). Relative file paths are resolved
 * against the kubeconfig's directory, as kubectl does. Anything else that changes how we connect
 * (plugins, basic auth, impersonation, proxy-url) is a config_invalid error naming it.
 */
export function readKubeconfigFile(path: string, tokenOptions: { maxAgeMs?: number } = {}): KubeAccess {
  let doc: Entry;
  try {
    doc = (parse(readFileSync(path, 'utf8')) ?? {}) as Entry;
  } catch (err) {
    throw invalid(path, (err as Error).message, err);
  }
  const contextName = doc['current-context'];
  if (typeof contextName !== 'string' || !contextName) throw invalid(path, 'no current-context');
  const context = named(doc, 'contexts', contextName, 'context', path);
  const cluster = named(doc, 'clusters', str(context.cluster), 'cluster', path);
  const user = context.user === undefined ? {} : named(doc, 'users', str(context.user), 'user', path);
  for (const [field, feature] of Object.entries(UNSUPPORTED_USER_FIELDS))
    if (user[field] !== undefined && user[field] !== '')
      throw invalid(path, `user "${str(context.user)}" uses ${feature}, which is not supported`);
  if (cluster['proxy-url'])
    throw invalid(path, `cluster "${str(context.cluster)}" uses proxy-url, which is not supported`);
  const server = str(cluster.server);
  if (!server) throw invalid(path, `cluster "${str(context.cluster)}" has no server`);
  const file = (p: unknown) => readRelative(path, str(p));
  const access: KubeAccess = { server, source: path };
  if (context.namespace) access.namespace = str(context.namespace);
  const ca = pem(cluster['certificate-authority-data']) ?? file(cluster['certificate-authority']);
  if (ca) access.ca = ca;
  if (cluster['insecure-skip-tls-verify'] === true) access.insecureSkipTlsVerify = true;
  if (cluster['tls-server-name']) access.tlsServerName = str(cluster['tls-server-name']);
  const cert = pem(user['client-certificate-data']) ?? file(user['client-certificate']);
  const key = pem(user['client-key-data']) ?? file(user['client-key']);
  if (cert) access.cert = cert;
  if (key) access.key = key;
  if (!cert !== !key)
    throw invalid(path, `user "${str(context.user)}" has a client certificate or key without the other`);
  const token = str(user.token);
  if (token) access.token = () => token;
  else if (user.tokenFile) access.token = tokenFromFile(absolute(path, str(user.tokenFile)), tokenOptions);
  return access;
}

/** `list[name == wanted][field]` of a kubeconfig (contexts, clusters, users). */
function named(doc: Entry, list: string, wanted: string, field: string, path: string): Entry {
  const entries = Array.isArray(doc[list]) ? (doc[list] as Entry[]) : [];
  const found = entries.find((e) => e?.name === wanted)?.[field];
  if (!found || typeof found !== 'object') throw invalid(path, `no ${field} named "${wanted}" in ${list}`);
  return found as Entry;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v);
}

/** A `*-data` field: base64 of PEM. */
function pem(data: unknown): string | undefined {
  return typeof data === 'string' && data ? Buffer.from(data, 'base64').toString('utf8') : undefined;
}

function absolute(kubeconfig: string, p: string): string {
  return isAbsolute(p) ? p : resolve(dirname(kubeconfig), p);
}

function readRelative(kubeconfig: string, p: string): string | undefined {
  if (!p) return undefined;
  const at = absolute(kubeconfig, p);
  try {
    return readFileSync(at, 'utf8');
  } catch (err) {
    throw invalid(kubeconfig, `reading ${at}: ${(err as Error).message}`, err);
  }
}

function invalid(path: string, why: string, cause?: unknown): ObserverError {
  return new ObserverError(`kubeconfig ${path}: ${why}`, { code: 'config_invalid', retryable: false, cause });
}
