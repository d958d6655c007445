import { ObserverError } from '../errors.ts';
import type { RunCapture } from './run-captures.ts';

/** Column values of one evidence row: uid, evidence JSON, taken_at (ms). */
export type EvidenceColumns = [string, string, number];

/** Column values of one sighting row: namespace, name, parent uid, uid, first_seen_at (ms). */
export type SightingColumns = [string, string, string, string, number];

/** A batch's TaskRuns as children of the PipelineRuns their ownerReferences name. */
export function sightingRows(captures: readonly RunCapture[]): SightingColumns[] {
  const rows = new Map<string, SightingColumns>();
  for (const c of captures) {
    if (c.run.kind !== 'TaskRun') continue;
    const meta = (c.object as { metadata?: { ownerReferences?: { kind?: string; uid?: string }[] } })
      .metadata;
    for (const o of meta?.ownerReferences ?? [])
      if (o.kind === 'PipelineRun' && typeof o.uid === 'string' && o.uid)
        rows.set(`${c.uid}/${o.uid}`, [c.run.namespace, c.run.name, o.uid, c.uid, c.capturedAt.getTime()]);
  }
  return [...rows.values()];
}

/** The evidence rows of a batch (first evidence of each uid in the batch). */
export function evidenceRows(captures: readonly RunCapture[]): EvidenceColumns[] {
  const rows = new Map<string, EvidenceColumns>();
  for (const c of captures)
    if (c.evidence && !rows.has(c.uid))
      rows.set(c.uid, [c.uid, JSON.stringify(c.evidence), c.capturedAt.getTime()]);
  return [...rows.values()];
}

/** Column values of one capture row, in schema order (uid … captured_at). */
export type CaptureColumns = [string, string, string, string, string, number];

/**
 * Validates a batch of captures and maps it to rows, keeping the last copy of each uid (one upsert
 * may not touch a row twice in PostgreSQL). Fails with `input_invalid` naming the run, writing nothing.
 */
export function captureRows(captures: readonly RunCapture[]): CaptureColumns[] {
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
    rows.set(c.uid, [c.uid, kind, namespace, name, JSON.stringify(c.object), at]);
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
}

export function toCapture(row: CaptureRow): RunCapture {
  return {
    uid: row.uid,
    run: { kind: row.kind, namespace: row.namespace, name: row.name },
    object: JSON.parse(row.object) as Record<string, unknown>,
    capturedAt: new Date(Number(row.captured_at)),
  };
}

const invalid = (message: string) => new ObserverError(message, { code: 'input_invalid', retryable: false });
