import type { RunRef } from '../tekton/index.ts';
import type { CredentialSource, RegistryCredentials } from './credentials.ts';

/** One `auths` entry of a docker config.json (or a legacy .dockercfg, which is the bare map). */
export interface DockerAuthEntry {
  /** base64 `user:password` */
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
}

const DOCKER_HUB = ['docker.io', 'index.docker.io', 'registry-1.docker.io'];

/**
 * The registry host a config key means: docker writes keys as `host`, `https://host`,
 * `https://host/v1/` or `host/path`; Docker Hub has three names.
 */
export function normaliseRegistryKey(key: string): string {
  const host = key
    .trim()
    .replace(/^[a-z]+:\/\//i, '')
    .split('/')[0]
    .toLowerCase();
  return DOCKER_HUB.includes(host) ? 'index.docker.io' : host;
}

/** The entries of a config.json (`{auths:{…}}`) or legacy dockercfg (`{host:{…}}`), keyed by normalised host. */
export function dockerAuths(config: unknown): Map<string, DockerAuthEntry> {
  const out = new Map<string, DockerAuthEntry>();
  if (!config || typeof config !== 'object') return out;
  const obj = config as Record<string, unknown>;
  const auths = obj.auths && typeof obj.auths === 'object' ? (obj.auths as Record<string, unknown>) : obj;
  for (const [key, value] of Object.entries(auths)) {
    if (!value || typeof value !== 'object') continue;
    const host = normaliseRegistryKey(key);
    if (!out.has(host)) out.set(host, value as DockerAuthEntry);
  }
  return out;
}

/** Credentials of one entry: identitytoken first (docker's order), then username/password or `auth`. */
export function entryCredentials(entry: DockerAuthEntry): RegistryCredentials | undefined {
  if (entry.identitytoken) return { kind: 'identity-token', identityToken: entry.identitytoken };
  if (entry.username && entry.password !== undefined) {
    return { kind: 'basic', username: entry.username, password: entry.password };
  }
  if (!entry.auth) return undefined;
  const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  return { kind: 'basic', username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** The credentials a docker config holds for a registry host, if any. */
export function dockerConfigCredentials(
  config: unknown,
  registryHost: string,
): RegistryCredentials | undefined {
  const entry = dockerAuths(config).get(normaliseRegistryKey(registryHost));
  return entry ? entryCredentials(entry) : undefined;
}

/**
 * Credentials from one docker config.json, the same for every run (the observer's own mounted
 * config). The composition root reads the file (config/ owns file access) and passes the JSON in.
 * credHelpers/credsStore are not supported: in a cluster there is no helper binary to run.
 */
export class DockerConfigCredentials implements CredentialSource {
  readonly #config: unknown;

  constructor(options: { config: unknown }) {
    this.#config = options.config;
  }

  async credentialsFor(_run: RunRef, registryHost: string): Promise<RegistryCredentials | undefined> {
    return dockerConfigCredentials(this.#config, registryHost);
  }
}
