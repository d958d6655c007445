import { base64ToBytes } from './verify/bytes.ts';
import type { StatementSubject } from './verify/subject-match.ts';

/** What the page shows of a statement, read from SLSA v1.0 or v0.2 provenance. */
export interface StatementFacts {
  predicateType: string;
  subjects: StatementSubject[];
  builderId: string;
  buildType: string;
  /** git sources: URL and commit */
  sources: { url: string; commit: string }[];
  /** every material / resolved dependency */
  materials: { name: string; uri: string; digest: string }[];
  /** task, pipeline, pipelineTask and StepAction references (bundles, git, hub) */
  bundles: { name: string; uri: string; digest: string }[];
  /** the execution check outcome, when the check ran */
  executionCheck?: { result: string; detail: unknown };
}

interface Descriptor {
  name?: string;
  uri?: string;
  digest?: Record<string, string>;
  content?: string;
  annotations?: Record<string, string>;
}

const REF_NAMES = /^(task|pipeline|pipelineTask|stepAction\/.*)$/;

/** Reads a parsed statement; fields that are missing read as empty, never throw. */
export function statementFacts(statement: unknown): StatementFacts {
  const s = (statement ?? {}) as {
    predicateType?: string;
    subject?: StatementSubject[];
    predicate?: unknown;
  };
  const p = (s.predicate ?? {}) as Record<string, unknown>;
  const v1 = p.buildDefinition !== undefined || p.runDetails !== undefined;
  const deps: Descriptor[] = v1 ? v1Dependencies(p) : v02Materials(p);
  const materials = deps.map((d) => ({ name: d.name ?? '', uri: d.uri ?? '', digest: digestText(d.digest) }));
  const sources = deps
    .filter((d) => d.uri?.startsWith('git+') && d.digest?.sha1)
    .map((d) => ({ url: (d.uri ?? '').slice(4), commit: d.digest?.sha1 ?? '' }));
  const bundles = materials.filter((m) => REF_NAMES.test(m.name));
  return {
    predicateType: s.predicateType ?? '',
    subjects: Array.isArray(s.subject) ? s.subject : [],
    builderId: v1 ? str(get(p, 'runDetails', 'builder', 'id')) : str(get(p, 'builder', 'id')),
    buildType: v1 ? str(get(p, 'buildDefinition', 'buildType')) : str(p.buildType),
    sources: uniqueBy(sources, (x) => `${x.url}@${x.commit}`),
    materials,
    bundles,
    executionCheck: v1 ? v1ExecutionCheck(p) : v02ExecutionCheck(p),
  };
}

function v1Dependencies(p: Record<string, unknown>): Descriptor[] {
  const deps = get(p, 'buildDefinition', 'resolvedDependencies');
  return Array.isArray(deps) ? (deps as Descriptor[]) : [];
}

function v02Materials(p: Record<string, unknown>): Descriptor[] {
  const m = p.materials;
  return Array.isArray(m) ? (m as Descriptor[]) : [];
}

function v1ExecutionCheck(p: Record<string, unknown>): StatementFacts['executionCheck'] {
  const byproducts = get(p, 'runDetails', 'byproducts');
  if (!Array.isArray(byproducts)) return undefined;
  const b = (byproducts as Descriptor[]).find((d) => d.name === 'executionCheck');
  if (!b) return undefined;
  let detail: unknown;
  try {
    detail = JSON.parse(new TextDecoder().decode(base64ToBytes(b.content ?? '')));
  } catch {
    detail = undefined;
  }
  return { result: b.annotations?.result ?? str((detail as { result?: string })?.result), detail };
}

function v02ExecutionCheck(p: Record<string, unknown>): StatementFacts['executionCheck'] {
  const check = get(p, 'buildConfig', 'executionCheck') as { result?: string } | undefined;
  return check ? { result: str(check.result), detail: check } : undefined;
}

function get(value: unknown, ...path: string[]): unknown {
  let v = value;
  for (const k of path) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

const digestText = (d: Record<string, string> | undefined): string =>
  Object.entries(d ?? {})
    .map(([alg, v]) => `${alg}:${v}`)
    .join(' ');

function uniqueBy<T>(items: T[], key: (t: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((i) => !seen.has(key(i)) && seen.add(key(i)));
}
