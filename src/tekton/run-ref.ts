/** The two kinds of Tekton run the observer attests. */
export type RunKind = 'TaskRun' | 'PipelineRun';

/** What identifies a run in the queue, the index and every log line. */
export interface RunKey {
  kind: RunKind;
  namespace: string;
  name: string;
}

/** A run as the storage backends need to know it: its key plus the facts they act on. */
export interface RunRef extends RunKey {
  uid: string;
  /** TaskRun spec.serviceAccountName, PipelineRun spec.taskRunTemplate.serviceAccountName; default "default". */
  serviceAccountName: string;
}

export const runKeyString = (k: RunKey): string => `${k.kind}/${k.namespace}/${k.name}`;

/** "TaskRun tenant-a/build-1": how messages name a run. */
export const describeRun = (k: RunKey): string => `${k.kind} ${k.namespace}/${k.name}`;

/** The plural used in API paths and RBAC. */
export const runPlural = (kind: RunKind): 'taskruns' | 'pipelineruns' =>
  kind === 'TaskRun' ? 'taskruns' : 'pipelineruns';

/** Chains' storage short key: `taskrun-<uid>` / `pipelinerun-<uid>`. */
export const runShortKey = (kind: RunKind, uid: string): string => `${kind.toLowerCase()}-${uid}`;
