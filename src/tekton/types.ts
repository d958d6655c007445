/**
 * Read-only views of the Tekton v1 objects the observer reads (tekton.dev/v1 TaskRun and
 * PipelineRun, as the apiserver or `kubectl get -o yaml` returns them). Only the fields we read are
 * typed; every field is optional because runs that failed early lack most of `status`. Objects are
 * treated as immutable input: nothing here or downstream mutates them.
 * https://tekton.dev/docs/pipelines/taskruns/ https://tekton.dev/docs/pipelines/pipelineruns/
 */

/** A param or result value: string, array of strings, or object of strings (Tekton ParamValue). */
export type ParamValue = string | readonly string[] | Readonly<Record<string, string>>;

export interface Param {
  readonly name: string;
  readonly value: ParamValue;
}

export interface ParamSpec {
  readonly name: string;
  readonly type?: string;
  readonly default?: ParamValue;
}

/** A TaskRun/PipelineRun/step result: `{ name, type, value }`. */
export interface RunResult {
  readonly name: string;
  readonly type?: string;
  readonly value: ParamValue;
}

export interface Condition {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown' | string;
  readonly reason?: string;
  readonly message?: string;
  readonly lastTransitionTime?: string;
}

export interface RefSource {
  readonly uri?: string;
  readonly digest?: Readonly<Record<string, string>>;
  readonly entryPoint?: string;
}

export interface Provenance {
  readonly refSource?: RefSource;
  /** Go field names (`EnableAPIFields`, …) as Tekton writes them. */
  readonly featureFlags?: Readonly<Record<string, unknown>>;
}

export interface Ref {
  readonly name?: string;
  readonly kind?: string;
  readonly apiVersion?: string;
  readonly resolver?: string;
  readonly params?: readonly Param[];
}

export interface ObjectMeta {
  readonly name?: string;
  readonly namespace?: string;
  readonly uid?: string;
  readonly generateName?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface Step {
  readonly name?: string;
  readonly image?: string;
  readonly command?: readonly string[];
  readonly args?: readonly string[];
  readonly script?: string;
  readonly ref?: Ref;
}

export interface TaskSpec {
  readonly params?: readonly ParamSpec[];
  readonly steps?: readonly Step[];
  readonly sidecars?: readonly Step[];
  readonly results?: readonly unknown[];
}

export interface StepState {
  readonly name?: string;
  readonly container?: string;
  readonly imageID?: string;
  readonly results?: readonly RunResult[];
  readonly provenance?: Provenance;
}

export interface SidecarState {
  readonly name?: string;
  readonly container?: string;
  readonly imageID?: string;
}

export interface TaskRunSpec {
  readonly params?: readonly Param[];
  readonly taskRef?: Ref;
  readonly taskSpec?: TaskSpec;
  readonly serviceAccountName?: string;
  readonly [field: string]: unknown;
}

export interface RunStatusCommon {
  readonly conditions?: readonly Condition[];
  readonly startTime?: string;
  readonly completionTime?: string;
  readonly results?: readonly RunResult[];
  readonly provenance?: Provenance;
}

export interface TaskRunStatus extends RunStatusCommon {
  readonly podName?: string;
  readonly steps?: readonly StepState[];
  readonly sidecars?: readonly SidecarState[];
  readonly taskSpec?: TaskSpec;
}

export interface TaskRun {
  readonly apiVersion?: string;
  readonly kind?: 'TaskRun';
  readonly metadata: ObjectMeta;
  readonly spec?: TaskRunSpec;
  readonly status?: TaskRunStatus;
}

export interface PipelineTask {
  readonly name: string;
  readonly taskRef?: Ref;
  readonly taskSpec?: unknown;
  readonly runAfter?: readonly string[];
  readonly params?: readonly Param[];
  readonly when?: readonly {
    readonly input?: string;
    readonly values?: readonly string[];
    readonly cel?: string;
  }[];
  readonly matrix?: unknown;
}

export interface PipelineSpec {
  readonly params?: readonly ParamSpec[];
  readonly tasks?: readonly PipelineTask[];
  readonly finally?: readonly PipelineTask[];
  readonly results?: readonly unknown[];
}

export interface ChildReference {
  readonly kind?: string;
  readonly apiVersion?: string;
  readonly name: string;
  readonly pipelineTaskName?: string;
}

export interface PipelineRunSpec {
  readonly params?: readonly Param[];
  readonly pipelineRef?: Ref;
  readonly pipelineSpec?: PipelineSpec;
  readonly taskRunTemplate?: { readonly serviceAccountName?: string };
  readonly [field: string]: unknown;
}

export interface PipelineRunStatus extends RunStatusCommon {
  readonly childReferences?: readonly ChildReference[];
  readonly pipelineSpec?: PipelineSpec;
}

export interface PipelineRun {
  readonly apiVersion?: string;
  readonly kind?: 'PipelineRun';
  readonly metadata: ObjectMeta;
  readonly spec?: PipelineRunSpec;
  readonly status?: PipelineRunStatus;
}

/** Either kind of run, discriminated by `kind`. */
export type TektonRun =
  | (TaskRun & { readonly kind: 'TaskRun' })
  | (PipelineRun & { readonly kind: 'PipelineRun' });

/** Label Tekton puts on every child TaskRun: the pipeline task it runs. */
export const PIPELINE_TASK_LABEL = 'tekton.dev/pipelineTask';
