/**
 * Does a TaskRun found under a PipelineRun's childReferences really belong to it? It counts only
 * when
 * - it has an ownerReference to the PipelineRun's uid (`not_owned` otherwise), and
 * - it is the TaskRun the observer first saw under that name as this PipelineRun's child, when it
 *   saw one (`replaced` otherwise: deleted and re-created under the same name), and
 * - the apiserver created it strictly before the PipelineRun completed, or the observer saw it
 *   (finished) in an earlier second than the completion (`created_after_completion` otherwise).
 * Timestamps have one-second resolution, so "created in the completion second" is not "before":
 * a child swapped in within that second is refused unless the observer had seen it before.
 * ownerReferences are writable by whoever creates the object; creationTimestamp is set by the
 * apiserver and first sightings by the observer, so those are the checks a tenant cannot forge. A
 * child so refused is never used for subjects, materials, task references or execution outcomes.
 */
export type ChildOwnership =
  | { owned: true }
  | { owned: false; reason: 'not_owned' | 'created_after_completion' | 'replaced'; detail: string };

/** The first TaskRun the observer saw (finished) under the child's name as this PipelineRun's child. */
export interface FirstSighting {
  uid: string;
  at: Date;
}

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

export function childOwnership(
  pipelineRun: OwnedObject,
  child: OwnedObject,
  firstSeen?: FirstSighting,
): ChildOwnership {
  const parentUid = pipelineRun.metadata?.uid;
  const name = child.metadata?.name ?? '';
  if (!parentUid || !(child.metadata?.ownerReferences ?? []).some((o) => o.uid === parentUid))
    return {
      owned: false,
      reason: 'not_owned',
      detail: `TaskRun ${name} has no ownerReference to the PipelineRun's uid`,
    };
  if (firstSeen && firstSeen.uid !== child.metadata?.uid)
    return {
      owned: false,
      reason: 'replaced',
      detail: `TaskRun ${name} is not the TaskRun first seen under that name (uid ${firstSeen.uid})`,
    };
  const created = time(child.metadata?.creationTimestamp);
  const completed = time(pipelineRun.status?.completionTime);
  const seenBefore =
    firstSeen?.uid === child.metadata?.uid &&
    completed !== undefined &&
    (firstSeen?.at.getTime() ?? completed) < completed;
  if (completed !== undefined && !seenBefore && (created === undefined || created >= completed))
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
