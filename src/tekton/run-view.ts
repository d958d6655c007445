import { ObserverError } from '../errors.ts';
import type { RunKind, RunRef } from './run-ref.ts';
import { childReferencesOf, isDone, runRefOf } from './run-state.ts';
import type { ChildReference, PipelineRun, TaskRun, TektonRun } from './types.ts';

interface RunViewCommon {
  /** identity and the facts storage acts on (name, namespace, uid, service account) */
  readonly ref: RunRef;
  /** the Succeeded condition is present and not Unknown */
  readonly done: boolean;
  readonly annotations: Readonly<Record<string, string>>;
  /** status.completionTime in ms since the epoch; undefined when absent or unparsable */
  readonly completedAt: number | undefined;
}

/**
 * A run as the controller reads it, parsed once from the API object: the facts decisions are made
 * on, and the typed object the formats read. Discriminated by `kind`.
 */
export type RunView =
  | (RunViewCommon & { readonly kind: 'TaskRun'; readonly object: TaskRun & { readonly kind: 'TaskRun' } })
  | (RunViewCommon & {
      readonly kind: 'PipelineRun';
      readonly object: PipelineRun & { readonly kind: 'PipelineRun' };
      /** status.childReferences in Tekton's order */
      readonly childReferences: readonly ChildReference[];
    });

/**
 * Reads an object the apiserver returned for `kind`. Fails with `input_invalid` naming the run when
 * it is not an object with metadata, names another kind, or lacks metadata.name/uid.
 */
export function parseRun(object: unknown, kind: RunKind): RunView {
  const name = `${kind} ${describeObject(object)}`;
  if (!isRecord(object) || !isRecord(object.metadata))
    throw invalid(`reading ${name}: expected an object with metadata`);
  if (object.kind !== undefined && object.kind !== kind)
    throw invalid(`reading ${name}: kind is ${String(object.kind)}, expected ${kind}`);
  // The one place an untyped API object becomes a typed run: the types only say which fields
  // we read, all optional, and readers check what they use.
  const typed = { ...object, kind } as unknown as TektonRun;
  const common: RunViewCommon = {
    ref: runRefOf(typed),
    done: isDone(typed),
    annotations: typed.metadata.annotations ?? {},
    completedAt: timestamp(typed.status?.completionTime),
  };
  return typed.kind === 'TaskRun'
    ? { ...common, kind: 'TaskRun', object: typed }
    : { ...common, kind: 'PipelineRun', object: typed, childReferences: childReferencesOf(typed) };
}

function timestamp(value: string | undefined): number | undefined {
  const ms = Date.parse(String(value ?? ''));
  return Number.isNaN(ms) ? undefined : ms;
}

function describeObject(object: unknown): string {
  const meta = isRecord(object) && isRecord(object.metadata) ? object.metadata : {};
  return `${String(meta.namespace ?? '?')}/${String(meta.name ?? '?')}`;
}

const invalid = (message: string): ObserverError =>
  new ObserverError(message, { code: 'input_invalid', retryable: false });

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
