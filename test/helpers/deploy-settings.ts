import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

const DEPLOYMENT = resolve(import.meta.dirname, '../../deploy/base/40-deployment.yaml');
const CONFIG = resolve(import.meta.dirname, '../../deploy/base/30-config.yaml');

/**
 * The `artifacts.*` settings deploy/'s ConfigMap recommends (SLSA v1.0 to `tekton` and `oci`).
 * The observer's defaults are Chains' (`in-toto` to `tekton` only), so tests and the demo that
 * expect attestations in the registry set these explicitly, as an install from deploy/ does.
 */
export function recommendedArtifactSettings(): Record<string, string> {
  const docs = parseAllDocuments(readFileSync(CONFIG, 'utf8')).map((d) => d.toJS());
  const data: Record<string, string> = docs.find((d) => d?.kind === 'ConfigMap')?.data ?? {};
  return Object.fromEntries(Object.entries(data).filter(([k]) => k.startsWith('artifacts.')));
}

interface Container {
  env?: { name: string; value?: string }[];
  resources?: { limits?: { memory?: string } };
}

/**
 * What deploy/ gives the observer container: its NODE_OPTIONS, the other variables it sets to a
 * plain value (such as MALLOC_ARENA_MAX), and its memory limit (bytes).
 */
export function deploySettings(): {
  nodeOptions: string[];
  env: Record<string, string>;
  memoryLimitBytes?: number;
} {
  const docs = parseAllDocuments(readFileSync(DEPLOYMENT, 'utf8')).map((d) => d.toJS());
  const deployment = docs.find((d) => d?.kind === 'Deployment');
  const container: Container | undefined = deployment?.spec?.template?.spec?.containers?.[0];
  const nodeOptions = (container?.env?.find((e) => e.name === 'NODE_OPTIONS')?.value ?? '')
    .split(/\s+/)
    .filter(Boolean);
  const env = Object.fromEntries(
    (container?.env ?? []).flatMap((e) =>
      e.name !== 'NODE_OPTIONS' && e.value !== undefined ? [[e.name, e.value]] : [],
    ),
  );
  const memory = container?.resources?.limits?.memory;
  return { nodeOptions, env, ...(memory ? { memoryLimitBytes: quantity(memory) } : {}) };
}

/**
 * The flags as node applies them inside the container: `--max-old-space-size-percentage` is a share
 * of the cgroup's memory limit there, and this machine has no such limit, so it becomes the
 * equivalent `--max-old-space-size` (MiB) of deploy/'s limit.
 */
export function asInContainer(settings: { nodeOptions: string[]; memoryLimitBytes?: number }): string[] {
  return settings.nodeOptions.map((flag) => {
    const m = /^--max-old-space-size-percentage=([\d.]+)$/.exec(flag);
    if (!m || settings.memoryLimitBytes === undefined) return flag;
    return `--max-old-space-size=${Math.floor(((Number(m[1]) / 100) * settings.memoryLimitBytes) / 2 ** 20)}`;
  });
}

/** A Kubernetes memory quantity (Mi, Gi, M, G, plain bytes) in bytes. */
function quantity(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|K|M|G)?$/.exec(q.trim());
  if (!m) throw new Error(`deploy: memory limit "${q}" is not a quantity`);
  const unit = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, K: 1e3, M: 1e6, G: 1e9 }[m[2] ?? ''] ?? 1;
  return Number(m[1]) * unit;
}
