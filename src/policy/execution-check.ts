/**
 * What ran: a TaskRun's report of its step and sidecar images (`status.steps[].imageID`,
 * `status.sidecars[].imageID`, copied by Tekton from the Pod's container statuses) is compared
 * with the Pod the kubelet ran (`status.podName` in the run's namespace). Pure: the caller reads
 * the Pod (kube/PodReader) and passes it in, or undefined when it is gone.
 *
 * Outcomes (`result`), recorded under the field name `executionCheck` in the provenance:
 * - `match`: the Pod is owned by the run (ownerReference uid) and every step-/sidecar container's
 *   imageID equals what the run reports, and the run reports every such container;
 * - `mismatch`: an image differs, or a container is in one and not the other;
 * - `mismatch` too: the Pod ran any ephemeral container (`kubectl debug`): code the run did not
 *   declare ran beside its steps, so its report cannot be the whole story;
 * - `pod_not_found`: no evidence at all — the run names no Pod, or the Pod did not exist when the
 *   observer first saw the run finished (and is not there now);
 * - `not_owned`: the Pod named by the run is not owned by it (a run pointing at another Pod).
 * The Pod is judged from its evidence (pod-evidence.ts): the evidence captured at first sight when
 * there is some, else the Pod read now. `evidence` in the outcome says which.
 * Tekton names step containers `step-<name>` and sidecars `sidecar-<name>`
 * (tektoncd/pipeline pkg/pod/entrypoint.go, StepName/SidecarName); init containers are Tekton's own.
 */
import type { TaskRun } from '../tekton/index.ts';
import { type PodEvidence, podEvidence } from './pod-evidence.ts';

export type ExecutionCheckMode = 'off' | 'record' | 'enforce';

/** The fields of a core/v1 Pod the check reads. */
export interface PodView {
  metadata?: { name?: string; ownerReferences?: readonly { uid?: string; kind?: string }[] };
  spec?: { ephemeralContainers?: readonly { name?: string; image?: string }[] };
  status?: {
    containerStatuses?: readonly { name?: string; imageID?: string }[];
    ephemeralContainerStatuses?: readonly { name?: string; imageID?: string; image?: string }[];
  };
}

export interface ContainerDifference {
  container: string;
  /** what the run reports; absent = the run does not report this container */
  reported?: string;
  /** what the Pod ran; absent = the Pod has no such container */
  ran?: string;
}

export interface ExecutionCheckOutcome {
  result: 'match' | 'mismatch' | 'pod_not_found' | 'not_owned';
  podName: string;
  /** containers compared (match) */
  containers?: number;
  differences?: ContainerDifference[];
  detail?: string;
  /** where the Pod's evidence came from: captured when the run was first seen finished, or read now */
  evidence?: 'captured' | 'live';
  /**
   * a PipelineRun's outcome: each child TaskRun it executed, judged like a TaskRun; `result` is then
   * the worst of theirs (mismatch, not_owned, pod_not_found, match) and `podName` is empty
   */
  children?: ChildExecution[];
}

/** One child TaskRun's outcome inside a PipelineRun's (same fields as a TaskRun's, plus its names). */
export type ChildExecution = { name: string; pipelineTaskName?: string } & Omit<
  ExecutionCheckOutcome,
  'children'
>;

const SEVERITY: readonly ExecutionCheckOutcome['result'][] = [
  'mismatch',
  'not_owned',
  'pod_not_found',
  'match',
];

/** A PipelineRun's outcome from its children's: the worst result, every child listed. */
export function pipelineExecution(children: ChildExecution[]): ExecutionCheckOutcome {
  const result = SEVERITY.find((r) => children.some((c) => c.result === r)) ?? 'match';
  return { result, podName: '', children };
}

const TEKTON_CONTAINER = /^(step|sidecar)-/;

/** The check against a Pod read now (undefined: gone); see checkEvidence. */
export function checkExecution(run: TaskRun, pod: PodView | undefined): ExecutionCheckOutcome {
  const podName = run.status?.podName ?? '';
  return checkEvidence(run, podEvidence(podName, podName ? pod : undefined, new Date(0)), 'live');
}

/** The check of a run's report against its Pod's evidence. */
export function checkEvidence(
  run: TaskRun,
  evidence: PodEvidence,
  source: 'captured' | 'live',
): ExecutionCheckOutcome {
  const podName = evidence.podName;
  const from = source === 'captured' ? { evidence: source } : {};
  if (!podName) return { result: 'pod_not_found', podName, detail: 'the run has no status.podName', ...from };
  if (!evidence.found)
    return { result: 'pod_not_found', podName, detail: `Pod ${podName} does not exist (pruned?)`, ...from };
  const uid = run.metadata.uid;
  if (!uid || !evidence.ownerUids.includes(uid))
    return {
      result: 'not_owned',
      podName,
      detail: `Pod ${podName} has no ownerReference to the run's uid`,
      ...from,
    };
  const differences = differencesOf(reportedImages(run), evidence);
  return differences.length
    ? { result: 'mismatch', podName, differences, ...from }
    : { result: 'match', podName, containers: reportedImages(run).size, ...from };
}

function differencesOf(
  reported: Map<string, string>,
  evidence: Extract<PodEvidence, { found: true }>,
): ContainerDifference[] {
  const ran = new Map<string, string>();
  for (const c of evidence.containers) if (TEKTON_CONTAINER.test(c.name)) ran.set(c.name, c.imageID);
  const differences: ContainerDifference[] = [];
  for (const name of [...new Set([...reported.keys(), ...ran.keys()])].sort()) {
    const r = reported.get(name);
    const p = ran.get(name);
    if (r === undefined || p === undefined || !sameImage(r, p))
      differences.push({
        container: name,
        ...(r === undefined ? {} : { reported: r }),
        ...(p === undefined ? {} : { ran: p }),
      });
  }
  for (const c of evidence.ephemeralContainers)
    differences.push({ container: `ephemeral:${c.name}`, ran: c.imageID || '(unknown image)' });
  return differences;
}

/** container name → imageID the run reports (container name, else `step-<name>` / `sidecar-<name>`). */
function reportedImages(run: TaskRun): Map<string, string> {
  const out = new Map<string, string>();
  for (const s of run.status?.steps ?? []) out.set(s.container || `step-${s.name ?? ''}`, s.imageID ?? '');
  for (const s of run.status?.sidecars ?? [])
    out.set(s.container || `sidecar-${s.name ?? ''}`, s.imageID ?? '');
  return out;
}

/**
 * Same image: equal digests when both carry one (the kubelet's `docker-pullable://` prefix and the
 * repository spelling may differ), else equal strings. Empty never matches.
 */
function sameImage(a: string, b: string): boolean {
  if (!a || !b) return false;
  const digest = (s: string) => /@(sha256:[a-f0-9]{64})$/.exec(s)?.[1];
  const da = digest(a);
  const db = digest(b);
  return da && db ? da === db : a === b;
}
