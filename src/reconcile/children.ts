import type { ChildRun } from '../formats/index.ts';
import type { RunCaptures } from '../index/index.ts';
import type { RunApi } from '../kube/index.ts';
import type { AttemptContext } from '../model/index.ts';
import { childOwnership, type OwnedObject } from '../policy/index.ts';
import { parseRun, type RunView } from '../tekton/index.ts';

/**
 * Reads a PipelineRun's children through status.childReferences. Chains never signs a
 * PipelineRun whose child is missing or is a CustomRun; we classify each child instead, so the
 * decision can wait for unfinished ones for a while and then attest what is known. A TaskRun that
 * does not belong to the PipelineRun (policy/child-ownership.ts: no ownerReference to it, or created
 * after it completed: a swapped child) is `not-owned` / `created-after-completion`, never `found`.
 * A child gone from the cluster (deleted with its PipelineRun, or pruned) is read from the copy
 * the index captured when it finished; the same ownership checks apply to the copy.
 */
export async function readChildren(
  runApi: Pick<RunApi, 'get'>,
  captures: Pick<RunCaptures, 'findCapturedRun'>,
  pipelineRun: Extract<RunView, { kind: 'PipelineRun' }>,
  context?: AttemptContext,
): Promise<ChildRun[]> {
  const { namespace } = pipelineRun.ref;
  const children: ChildRun[] = [];
  for (const ref of pipelineRun.childReferences) {
    const name = ref.name;
    if (!name) continue;
    const base = { name, pipelineTaskName: ref.pipelineTaskName };
    if (ref.kind && ref.kind !== 'TaskRun') {
      children.push({ ...base, state: 'not-a-taskrun', kind: ref.kind });
      continue;
    }
    const key = { kind: 'TaskRun' as const, namespace, name };
    const object = (await runApi.get(key, context)) ?? (await captures.findCapturedRun(key))?.object;
    const child = object && parseRun(object, 'TaskRun');
    if (child?.kind !== 'TaskRun') {
      children.push({ ...base, state: 'missing' });
      continue;
    }
    const owned = childOwnership(pipelineRun.object as OwnedObject, child.object as OwnedObject);
    if (!owned.owned)
      children.push({
        ...base,
        state: owned.reason === 'not_owned' ? 'not-owned' : 'created-after-completion',
        kind: 'TaskRun',
      });
    else if (!child.done) children.push({ ...base, state: 'unfinished', kind: 'TaskRun' });
    else children.push({ ...base, state: 'found', run: child.object });
  }
  return children;
}
