import { ObserverError } from '../errors.ts';
import { type PodEvidence, parsePodEvidence } from '../policy/index.ts';
import type { RunKey } from '../tekton/index.ts';
import type { RunCapture } from './run-captures.ts';
import type { IndexSeal } from './seal/index-seal.ts';

/** Column values of one evidence row: uid, evidence JSON, taken_at (ms), seal. */
export type EvidenceColumns = [string, string, number, string];

/** Column values of one sighting row: namespace, name, parent uid, uid, first_seen_at (ms), seal. */
export type SightingColumns = [string, string, string, string, number, string];

/** A batch's TaskRuns as children of the PipelineRuns their ownerReferences name, sealed. */
export function sightingRows(captures: readonly RunCapture[], seal: IndexSeal): SightingColumns[] {
  const rows = new Map<string, SightingColumns>();
  for (const c of captures) {
    if (c.run.kind !== 'TaskRun') continue;
    const meta = (c.object as { metadata?: { ownerReferences?: { kind?: string; uid?: string }[] } })
      .metadata;
    for (const o of meta?.ownerReferences ?? [])
      if (o.kind === 'PipelineRun' && typeof o.uid === 'string' && o.uid) {
        const fields = [c.run.namespace, c.run.name, o.uid, c.uid, c.capturedAt.getTime()] as const;
        rows.set(`${c.uid}/${o.uid}`, [...fields, seal.seal('run_sightings', fields)]);
      }
  }
  return [...rows.values()];
}

/** The evidence rows of a batch (first evidence of each uid in the batch), sealed. */
export function evidenceRows(captures: readonly RunCapture[], seal: IndexSeal): EvidenceColumns[] {
  const rows = new Map<string, EvidenceColumns>();
  for (const c of captures)
    if (c.evidence && !rows.has(c.uid)) {
      const fields = [c.uid, JSON.stringify(c.evidence), c.capturedAt.getTime()] as const;
      rows.set(c.uid, [...fields, seal.seal('run_evidence', fields)]);
    }
  return [...rows.values()];
}

/** Column values of one capture row, in schema order (uid … captured_at, seal). */
export type CaptureColumns = [string, string, string, string, string, number, string];

/**
 * Validates a batch of captures and maps it to rows, keeping the last copy of each uid (one upsert
 * may not touch a row twice in PostgreSQL). Fails with `input_invalid` naming the run, writing nothing.
 */
export function captureRows(captures: readonly RunCapture[], seal: IndexSeal): CaptureColumns[] {
  const rows = new Map<string, CaptureColumns>();
  for (const c of captures) {
    const { kind, namespace, name } = c.run;
    const where = `${kind} ${namespace}/${name}`;
    if (!c.uid || !namespace || !name || (kind !== 'TaskRun' && kind !== 'PipelineRun'))
      throw invalid(
        `capturing ${where}: a capture needs a uid, a kind TaskRun or PipelineRun, a namespace and a name`,
      );
    const at = c.capturedAt.getTime();
    if (!Number.isFinite(at)) throw invalid(`capturing ${where}: capturedAt is not a date`);
    const fields = [c.uid, kind, namespace, name, JSON.stringify(c.object), at] as const;
    rows.set(c.uid, [...fields, seal.seal('run_captures', fields)]);
  }
  return [...rows.values()];
}

export interface CaptureRow {
  uid: string;
  kind: RunCapture['run']['kind'];
  namespace: string;
  name: string;
  object: string;
  captured_at: number;
  seal: string | null;
}

/** The first of `rows` whose seal holds; each one that fails it is reported (IndexSeal.onBroken) and passed over. */
export function firstSealedCapture(rows: readonly CaptureRow[], seal: IndexSeal): RunCapture | undefined {
  for (const row of rows) {
    const run = { kind: row.kind, namespace: row.namespace, name: row.name };
    const fields = [row.uid, row.kind, row.namespace, row.name, row.object, Number(row.captured_at)];
    if (seal.verify('run_captures', fields, row.seal, { uid: row.uid, run })) return toCapture(row);
  }
  return undefined;
}

export interface EvidenceRow {
  uid: string;
  evidence: string;
  taken_at: number;
  seal: string | null;
}

/** The row's evidence when its seal holds; undefined (reported) when it does not. */
export function sealedEvidence(row: EvidenceRow, seal: IndexSeal, run?: RunKey): PodEvidence | undefined {
  const fields = [row.uid, row.evidence, Number(row.taken_at)];
  const about = { uid: row.uid, ...(run ? { run } : {}) };
  return seal.verify('run_evidence', fields, row.seal, about)
    ? parsePodEvidence(JSON.parse(row.evidence))
    : undefined;
}

export interface SightingRow {
  namespace: string;
  name: string;
  parent_uid: string;
  uid: string;
  first_seen_at: number;
  seal: string | null;
}

/** The first of `rows` (earliest first) whose seal holds; broken ones are reported and passed over. */
export function firstSealedSighting(
  rows: readonly SightingRow[],
  seal: IndexSeal,
): { uid: string; at: Date } | undefined {
  for (const r of rows) {
    const at = Number(r.first_seen_at);
    const fields = [r.namespace, r.name, r.parent_uid, r.uid, at];
    const run = { kind: 'TaskRun' as const, namespace: r.namespace, name: r.name };
    if (seal.verify('run_sightings', fields, r.seal, { uid: r.uid, run }))
      return { uid: r.uid, at: new Date(at) };
  }
  return undefined;
}

function toCapture(row: CaptureRow): RunCapture {
  return {
    uid: row.uid,
    run: { kind: row.kind, namespace: row.namespace, name: row.name },
    object: JSON.parse(row.object) as Record<string, unknown>,
    capturedAt: new Date(Number(row.captured_at)),
  };
}

const invalid = (message: string) => new ObserverError(message, { code: 'input_invalid', retryable: false });
