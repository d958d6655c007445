/**
 * What a TaskRun's Pod showed when the observer first saw the run finished: who owned it and which
 * images its containers (and ephemeral containers) ran. Taken at first sight and stored with the
 * run's capture in the index (insert-once), so a later status edit, a pruned Pod or a Pod replaced
 * under the same name does not erase it; the execution check compares the run's report with it
 * (execution-check.ts). Bounded: at most MAX_CONTAINERS containers per list, strings clipped.
 */
import type { PodView } from './execution-check.ts';

export interface ContainerImage {
  name: string;
  imageID: string;
}

export type PodEvidence =
  /** the Pod as it was: its owners' uids and its containers' images */
  | {
      found: true;
      podName: string;
      ownerUids: string[];
      containers: ContainerImage[];
      ephemeralContainers: ContainerImage[];
      /** ISO time the evidence was taken */
      takenAt: string;
    }
  /** the run named no Pod, or the named Pod did not exist when the run was first seen finished */
  | { found: false; podName: string; takenAt: string };

export const MAX_CONTAINERS = 64;
const MAX_TEXT = 512;

/** The evidence of a Pod (or of its absence) as read now. */
export function podEvidence(podName: string, pod: PodView | undefined, takenAt: Date): PodEvidence {
  const at = takenAt.toISOString();
  if (!podName || !pod) return { found: false, podName: clip(podName), takenAt: at };
  const images = (list: readonly { name?: string; imageID?: string; image?: string }[] | undefined) =>
    (list ?? [])
      .slice(0, MAX_CONTAINERS)
      .map((c) => ({ name: clip(c.name ?? ''), imageID: clip(c.imageID || c.image || '') }));
  const ephemeral = new Map<string, ContainerImage>();
  for (const c of images(pod.spec?.ephemeralContainers)) ephemeral.set(c.name, c);
  for (const c of images(pod.status?.ephemeralContainerStatuses)) ephemeral.set(c.name, c);
  return {
    found: true,
    podName: clip(podName),
    ownerUids: (pod.metadata?.ownerReferences ?? []).slice(0, MAX_CONTAINERS).map((o) => clip(o.uid ?? '')),
    containers: images(pod.status?.containerStatuses),
    ephemeralContainers: [...ephemeral.values()].slice(0, MAX_CONTAINERS),
    takenAt: at,
  };
}

/** Evidence read back from the index: undefined unless it has the shape podEvidence writes. */
export function parsePodEvidence(value: unknown): PodEvidence | undefined {
  const v = value as Partial<Record<string, unknown>> | null;
  if (typeof v !== 'object' || v === null || typeof v.podName !== 'string' || typeof v.takenAt !== 'string')
    return undefined;
  if (v.found === false) return { found: false, podName: v.podName, takenAt: v.takenAt };
  const list = (x: unknown) =>
    Array.isArray(x) && x.every((c) => typeof c?.name === 'string' && typeof c?.imageID === 'string');
  if (v.found !== true || !list(v.containers) || !list(v.ephemeralContainers) || !Array.isArray(v.ownerUids))
    return undefined;
  return v as PodEvidence;
}

function clip(s: string): string {
  return s.length <= MAX_TEXT ? s : s.slice(0, MAX_TEXT);
}
