/**
 * Does a TaskRun found under a PipelineRun's childReferences really belong to it? It counts only
 * when it has an ownerReference to the PipelineRun's uid AND the apiserver created it no later than
 * the PipelineRun completed. The second condition is the one a tenant cannot forge: ownerReferences
 * are writable by whoever creates the object, creationTimestamp is set by the apiserver. A child
 * deleted and re-created after completion (same name, another bundle or image) is therefore never
 * used for subjects, materials or task references.
 */
export type ChildOwnership =
  | { owned: true }
  | { owned: false; reason: 'not_owned' | 'created_after_completion'; detail: string };

/** The metadata fields the check reads (present on every apiserver object). */
export interface OwnedObject {
  metadata?: {
    name?: string;
    uid?: string;
    creationTimestamp?: string | Date;
    ownerReferences?: readonly { uid?: string; kind?: string }[];
  };
  status?: { completionTime?: string };
}

export function childOwnership(pipelineRun: OwnedObject, child: OwnedObject): ChildOwnership {
  const parentUid = pipelineRun.metadata?.uid;
  const name = child.metadata?.name ?? '';
  if (!parentUid || !(child.metadata?.ownerReferences ?? []).some((o) => o.uid === parentUid))
    return {
      owned: false,
      reason: 'not_owned',
      detail: `TaskRun ${name} has no ownerReference to the PipelineRun's uid`,
    };
  const created = time(child.metadata?.creationTimestamp);
  const completed = time(pipelineRun.status?.completionTime);
  if (completed !== undefined && (created === undefined || created > completed))
    return {
      owned: false,
      reason: 'created_after_completion',
      detail: `TaskRun ${name} was created after the PipelineRun completed`,
    };
  return { owned: true };
}

function time(value: string | Date | undefined): number | undefined {
  if (value === undefined) return undefined;
  const t = value instanceof Date ? value.getTime() : Date.parse(value);
  return Number.isNaN(t) ? undefined : t;
}
