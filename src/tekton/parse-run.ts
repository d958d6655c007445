import { parse } from 'yaml';
import { ObserverError } from '../errors.ts';
import type { TektonRun } from './types.ts';

/**
 * Parses one TaskRun or PipelineRun document: JSON, or YAML as `kubectl get -o yaml` prints it.
 * `kind` must be TaskRun or PipelineRun (a document without `kind` but with `status.childReferences`
 * or `spec.pipelineRef/pipelineSpec` reads as a PipelineRun, otherwise as a TaskRun, so Chains'
 * kind-less test data parses). Fails with `input_invalid` naming what is wrong; never returns a
 * partially parsed object. A missing `metadata` reads as `{}` (Chains' unit test data has none).
 */
export function parseRunDocument(text: string): TektonRun {
  let doc: unknown;
  try {
    doc = parse(text, { prettyErrors: false });
  } catch (err) {
    throw new ObserverError(`parsing run document: ${(err as Error).message}`, {
      code: 'input_invalid',
      retryable: false,
      cause: err,
    });
  }
  if (!isRecord(doc) || (doc.metadata !== undefined && !isRecord(doc.metadata))) {
    throw new ObserverError('parsing run document: expected an object with object metadata (if any)', {
      code: 'input_invalid',
      retryable: false,
    });
  }
  const kind = doc.kind ?? inferKind(doc);
  if (kind !== 'TaskRun' && kind !== 'PipelineRun') {
    throw new ObserverError(`parsing run document: kind ${String(kind)} is not TaskRun or PipelineRun`, {
      code: 'input_invalid',
      retryable: false,
    });
  }
  return { ...doc, metadata: doc.metadata ?? {}, kind } as unknown as TektonRun;
}

function inferKind(doc: Record<string, unknown>): string {
  const spec = isRecord(doc.spec) ? doc.spec : {};
  const status = isRecord(doc.status) ? doc.status : {};
  const isPipeline =
    'pipelineRef' in spec ||
    'pipelineSpec' in spec ||
    'childReferences' in status ||
    'pipelineSpec' in status;
  return isPipeline ? 'PipelineRun' : 'TaskRun';
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
