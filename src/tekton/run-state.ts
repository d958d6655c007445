import { ObserverError } from '../errors.ts';
import type { RunRef } from './run-ref.ts';
import type { ChildReference, Condition, PipelineRun, RunStatusCommon, TektonRun } from './types.ts';

/** The `Succeeded` condition, if Tekton has set one. */
export function succeededCondition(status: RunStatusCommon | undefined): Condition | undefined {
  return status?.conditions?.find((c) => c.type === 'Succeeded');
}

/**
 * A run is done when its `Succeeded` condition is present and not `Unknown` (Tekton's IsDone):
 * succeeded, failed and cancelled runs are all done and all get attested.
 */
export function isDone(run: { readonly status?: RunStatusCommon }): boolean {
  const c = succeededCondition(run.status);
  return c !== undefined && c.status !== 'Unknown';
}

/**
 * Chains' word for a run's state, from the first condition (as Chains reads it):
 * True → "Succeeded", False → "Failed", Unknown → "Running", none → undefined.
 */
export function statusWord(status: RunStatusCommon | undefined): string | undefined {
  switch (status?.conditions?.[0]?.status) {
    case 'True':
      return 'Succeeded';
    case 'False':
      return 'Failed';
    case 'Unknown':
      return 'Running';
    default:
      return undefined;
  }
}

/**
 * The RunRef storage needs. Fails with `input_invalid` when the object has no name or uid (it did
 * not come from an apiserver). A missing namespace reads as "default", as Kubernetes does.
 */
export function runRefOf(run: TektonRun): RunRef {
  const { name, uid } = run.metadata;
  const namespace = run.metadata.namespace || 'default';
  if (!name || !uid) {
    throw new ObserverError(
      `reading ${run.kind} ${namespace}/${name ?? '?'}: metadata.name and metadata.uid are required`,
      {
        code: 'input_invalid',
        retryable: false,
      },
    );
  }
  const serviceAccountName =
    (run.kind === 'TaskRun' ? run.spec?.serviceAccountName : run.spec?.taskRunTemplate?.serviceAccountName) ||
    'default';
  return { kind: run.kind, namespace, name, uid, serviceAccountName };
}

/** `status.childReferences` of a PipelineRun, in Tekton's order ([] when absent). */
export function childReferencesOf(run: PipelineRun): readonly ChildReference[] {
  return run.status?.childReferences ?? [];
}
