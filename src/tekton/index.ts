export { parseRunDocument } from './parse-run.ts';
export type { RunKey, RunKind, RunRef } from './run-ref.ts';
export { describeRun, runKeyString, runPlural, runShortKey } from './run-ref.ts';
export type { RunObservation, RunSource } from './run-source.ts';
export { childReferencesOf, isDone, runRefOf, statusWord, succeededCondition } from './run-state.ts';
export { parseRun, type RunView } from './run-view.ts';
export type {
  ChildReference,
  Condition,
  ObjectMeta,
  Param,
  ParamSpec,
  ParamValue,
  PipelineRun,
  PipelineRunSpec,
  PipelineRunStatus,
  PipelineSpec,
  PipelineTask,
  Provenance,
  Ref,
  RefSource,
  RunResult,
  RunStatusCommon,
  SidecarState,
  Step,
  StepState,
  TaskRun,
  TaskRunSpec,
  TaskRunStatus,
  TaskSpec,
  TektonRun,
} from './types.ts';
export { PIPELINE_TASK_LABEL } from './types.ts';
