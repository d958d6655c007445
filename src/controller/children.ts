import type { ChildRun } from '../formats/index.ts';
import type { RunApi } from '../kube/index.ts';
import { childOwnership, type OwnedObject } from '../policy/index.ts';
import { childReferencesOf, isDone, type PipelineRun, type TaskRun } from '../tekton/index.ts';

/**
 * Looks up a PipelineRun's children through status.childReferences. Chains never signs a
 * PipelineRun whose child is missing or is a CustomRun; we classify each child instead, so the
 * caller can wait for unfinished ones for a while and then attest what is known. A TaskRun that
 * does not belong to the PipelineRun (policy/child-ownership.ts: no ownerReference to it, or created
 * after it completed: a swapped child) is `not-owned` / `created-after-completion`, never `found`.
 */
export async function resolveChildren(
  runApi: Pick<RunApi, 'get'>,
  pipelineRun: PipelineRun,
): Promise<ChildRun[]> {
  const namespace = pipelineRun.metadata?.namespace ?? '';
  const children: ChildRun[] = [];
  for (const ref of childReferencesOf(pipelineRun)) {
    const name = ref.name;
    if (!name) continue;
    const base = { name, pipelineTaskName: ref.pipelineTaskName };
    if (ref.kind && ref.kind !== 'TaskRun') {
      children.push({ ...base, state: 'not-a-taskrun', kind: ref.kind });
      continue;
    }
    const child = (await runApi.get({ kind: 'TaskRun', namespace, name })) as TaskRun | undefined;
    const owned = child ? childOwnership(pipelineRun as OwnedObject, child as OwnedObject) : undefined;
    if (!child) children.push({ ...base, state: 'missing' });
    else if (owned && !owned.owned)
      children.push({
        ...base,
        state: owned.reason === 'not_owned' ? 'not-owned' : 'created-after-completion',
        kind: 'TaskRun',
      });
    else if (!isDone(child)) children.push({ ...base, state: 'unfinished', kind: 'TaskRun' });
    else children.push({ ...base, state: 'found', run: child });
  }
  return children;
}

/** When to stop waiting for unfinished children: the PipelineRun's completion plus the grace period. */
export function childWaitDeadline(pipelineRun: PipelineRun, waitSeconds: number): number {
  const completed = Date.parse(
    String((pipelineRun.status as { completionTime?: string } | undefined)?.completionTime ?? ''),
  );
  return (Number.isNaN(completed) ? 0 : completed) + waitSeconds * 1000;
}
