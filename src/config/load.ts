import { readdirSync, readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ObserverError } from '../errors.ts';
import { parseConfig } from './parse.ts';
import type { ObserverConfig } from './schema.ts';

/**
 * The only place that reads configuration files and environment variables.
 *
 * `path` is either a directory (a mounted ConfigMap: one file per key, dotfiles ignored) or a
 * YAML/JSON file holding a flat map, or a ConfigMap manifest (its `data` is used).
 * `overrides` (from command-line flags) win over the file. Environment: `POD_NAMESPACE` (the
 * observer's own namespace; default `provenance-observer`).
 */
export function loadConfig(
  options: {
    path?: string;
    /** the map already read from `path` (readConfigSource), so a reloader starts from the same one */
    source?: Record<string, string>;
    overrides?: Record<string, string>;
    env?: NodeJS.ProcessEnv;
  } = {},
): ObserverConfig {
  const env = options.env ?? process.env;
  const fromFile = options.source ?? (options.path ? readConfigSource(options.path) : {});
  return parseConfig({ ...fromFile, ...options.overrides }, { namespace: env.POD_NAMESPACE || undefined });
}

/**
 * This replica's name, for Events' `reportingInstance`: `POD_NAME` (the Deployment sets it from
 * the downward API, `metadata.name`), else the host name (a pod's host name is its name unless
 * the spec sets another), so two replicas never report as the same instance.
 */
export function replicaName(env: NodeJS.ProcessEnv = process.env): string {
  return env.POD_NAME || hostname();
}

export function readConfigSource(path: string): Record<string, string> {
  try {
    if (statSync(path).isDirectory()) {
      const data: Record<string, string> = {};
      for (const name of readdirSync(path)) {
        const file = join(path, name);
        if (name.startsWith('.') || !statSync(file).isFile()) continue;
        data[name] = readFileSync(file, 'utf8');
      }
      return data;
    }
    const doc = parseYaml(readFileSync(path, 'utf8')) as unknown;
    const map = isConfigMap(doc) ? doc.data : doc;
    if (!map || typeof map !== 'object' || Array.isArray(map))
      throw new Error('expected a map of key: value');
    return Object.fromEntries(Object.entries(map).map(([k, v]) => [k, String(v)]));
  } catch (err) {
    throw new ObserverError(`reading configuration ${path}: ${(err as Error).message}`, {
      code: 'config_invalid',
      retryable: false,
      cause: err,
    });
  }
}

function isConfigMap(doc: unknown): doc is { data: Record<string, unknown> } {
  return !!doc && typeof doc === 'object' && (doc as { kind?: string }).kind === 'ConfigMap';
}
