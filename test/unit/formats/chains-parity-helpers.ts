import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PipelineRun, TaskRun } from '../../../src/tekton/index.ts';

/**
 * Chains' e2e expectations (tektoncd/chains test/testdata/slsa/<format>/<example>.json) are Go
 * html/template files filled from the completed run (test/examples_test.go, type Format and
 * expectedTaskRunProvenanceFormat / expectedPipelineRunProvenanceFormat). These helpers do the same.
 */
export interface ChainsFormat {
  TektonObjectName: string;
  UID: string;
  PipelineStartedOn: string;
  PipelineFinishedOn: string;
  BuildStartTimes: string[];
  BuildFinishedTimes: string[];
  ContainerNames: string[];
  StepImages: string[];
  URIDigest: { URI: string; Digest: string }[];
  ChildTaskRunNames: string[];
}

/** Go's time.RFC3339 of the UTC time: whole seconds, `Z`. */
const rfc3339 = (t: string | undefined) => new Date(t ?? NaN).toISOString().replace(/\.\d{3}Z$/, 'Z');

type Status = {
  startTime?: string;
  completionTime?: string;
  steps?: { name?: string; imageID?: string }[];
  sidecars?: { imageID?: string }[];
};

/** uri `oci://<before @>`, digest `<after the first :>`, each pair once, steps then sidecars. */
function uriDigests(statuses: Status[]): ChainsFormat['URIDigest'] {
  const pairs = new Map<string, { URI: string; Digest: string }>();
  for (const s of statuses)
    for (const c of [...(s.steps ?? []), ...(s.sidecars ?? [])]) {
      const id = c.imageID ?? '';
      const pair = { URI: `oci://${id.split('@')[0]}`, Digest: id.split(':')[1] ?? '' };
      pairs.set(`${pair.URI} ${pair.Digest}`, pair);
    }
  return [...pairs.values()];
}

export function formatOfTaskRun(tr: TaskRun): ChainsFormat {
  const status = tr.status as Status;
  return {
    TektonObjectName: tr.spec?.taskRef?.name ?? tr.metadata.name ?? '',
    UID: tr.metadata.uid ?? '',
    PipelineStartedOn: '',
    PipelineFinishedOn: '',
    BuildStartTimes: [rfc3339(status.startTime)],
    BuildFinishedTimes: [rfc3339(status.completionTime)],
    ContainerNames: (status.steps ?? []).map((s) => s.name ?? ''),
    StepImages: (status.steps ?? []).map((s) => s.imageID ?? ''),
    URIDigest: uriDigests([status]),
    ChildTaskRunNames: [],
  };
}

export function formatOfPipelineRun(pr: PipelineRun, children: TaskRun[]): ChainsFormat {
  const statuses = children.map((c) => c.status as Status);
  return {
    TektonObjectName: pr.metadata.name ?? '',
    UID: pr.metadata.uid ?? '',
    PipelineStartedOn: rfc3339(pr.status?.startTime),
    PipelineFinishedOn: rfc3339(pr.status?.completionTime),
    BuildStartTimes: statuses.map((s) => rfc3339(s.startTime)),
    BuildFinishedTimes: statuses.map((s) => rfc3339(s.completionTime)),
    ContainerNames: [],
    StepImages: [],
    URIDigest: uriDigests(statuses),
    ChildTaskRunNames: children.map((c) => c.metadata.name ?? ''),
  };
}

/** html/template's escaping of a value in text context (Go html/template htmlReplacementTable). */
const HTML: Record<string, string> = {
  '&': '&amp;',
  "'": '&#39;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&#34;',
  '+': '&#43;',
};
const htmlEscape = (v: string) => v.replace(/[&'<>"+]/g, (c) => HTML[c] ?? c);

/**
 * Fills the template constructs Chains' files use: `{{range .URIDigest}}…{{end}}` (with `{{.URI}}`,
 * `{{.Digest}}` inside), `{{index .Field N}}` and `{{.Field}}`. Anything else is an error, so a new
 * construct upstream fails loudly instead of passing through.
 */
export function renderChainsTemplate(template: string, f: ChainsFormat): string {
  const fields = f as unknown as Record<string, unknown>;
  const out = template
    .replace(/\{\{range \.URIDigest\}\}([\s\S]*?)\{\{end\}\}/g, (_, body: string) =>
      f.URIDigest.map((p) =>
        body.replace(/\{\{\.URI\}\}/g, htmlEscape(p.URI)).replace(/\{\{\.Digest\}\}/g, htmlEscape(p.Digest)),
      ).join(''),
    )
    .replace(/\{\{index \.(\w+) (\d+)\}\}/g, (_, name: string, i: string) => {
      const list = fields[name];
      if (!Array.isArray(list) || list[Number(i)] === undefined)
        throw new Error(`template: index .${name} ${i}`);
      return htmlEscape(String(list[Number(i)]));
    })
    .replace(/\{\{\.(\w+)\}\}/g, (_, name: string) => {
      if (typeof fields[name] !== 'string') throw new Error(`template: .${name} is not a string field`);
      return htmlEscape(fields[name] as string);
    });
  if (out.includes('{{'))
    throw new Error(`template: unsupported construct near ${out.slice(out.indexOf('{{'), 40)}`);
  return out;
}

/**
 * What Chains' e2e comparison ignores (test/examples_test.go ignoreReleaseSpecificFields):
 * every `internalParameters`, and an `environment` object holding `annotations` or `labels`
 * (v0.2 invocation.environment), but not a step's `environment` (container, image).
 */
export function dropReleaseSpecific(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(dropReleaseSpecific);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === 'internalParameters') continue;
    if (k === 'environment' && v && typeof v === 'object' && ('annotations' in v || 'labels' in v)) continue;
    out[k] = dropReleaseSpecific(v);
  }
  return out;
}

/** The value at a JSON pointer (`/a/0/b`), or undefined. */
export function at(value: unknown, pointer: string): unknown {
  let v = value;
  for (const part of pointer.split('/').slice(1)) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return v;
}

/** Removes the value at a JSON pointer (array items are removed, not left as holes). */
export function removeAt(value: unknown, pointer: string): void {
  const parts = pointer.split('/').slice(1);
  const last = parts.pop();
  const parent = at(value, parts.length ? `/${parts.join('/')}` : '');
  if (last === undefined || parent === null || typeof parent !== 'object') return;
  if (Array.isArray(parent)) parent.splice(Number(last), 1);
  else delete (parent as Record<string, unknown>)[last];
}

/** One deliberate difference from Chains' expected output, as docs/compatibility.md lists it. */
export interface ListedDifference {
  /** Chains' expected-output files (`<format>/<example>.json`) where the difference shows */
  files: string[];
  /** JSON pointer into the statement */
  path: string;
  /** Chains' value at `path` (absent: Chains has nothing there) */
  chains?: unknown;
  /** our value at `path` (absent: we emit nothing there) */
  ours?: unknown;
  /** the numbered reason in docs/compatibility.md */
  why: string;
}

export interface ParityManifest {
  differences: ListedDifference[];
  /** expected outputs not compared field by field, pinned by sha256 of the file */
  pinned: { file: string; sha256: string; why: string }[];
}

/** The machine-readable block (```json chains-parity) of docs/compatibility.md. */
export function readParityManifest(docPath: string): ParityManifest {
  const doc = readFileSync(docPath, 'utf8');
  const m = /```json chains-parity\n([\s\S]*?)\n```/.exec(doc);
  if (!m?.[1]) throw new Error(`${docPath} has no \`\`\`json chains-parity block`);
  return JSON.parse(m[1]) as ParityManifest;
}

export const readJson = (dir: string, file: string) => JSON.parse(readFileSync(join(dir, file), 'utf8'));
