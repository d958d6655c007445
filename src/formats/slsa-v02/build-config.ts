/**
 * SLSA v0.2 `buildConfig`. TaskRun: `{steps}`; PipelineRun: `{tasks}` — one TaskAttestation per
 * executed child TaskRun (Chains' v1 pipelinerun buildConfig: what Conforma reads as the tasks),
 * `{tasks: null}` when the run has no `status.pipelineSpec`. Children we could not read are listed
 * in `unresolvedChildRuns` (our addition, only present when non-empty).
 */
import { stepImageUri } from '../../artifacts/index.ts';
import { type PipelineRun, type Step, type StepState, statusWord, type TaskRun } from '../../tekton/index.ts';
import type { ExecutedTask, UnresolvedChild } from '../child-runs.ts';
import { utcTimestamp } from '../timestamps.ts';
import { invocation } from './invocation.ts';

export interface StepAttestation {
  entryPoint: string;
  arguments: readonly string[] | null;
  environment: { container: string; image: string };
  annotations: null;
}

/**
 * One step as Chains' attest.Step: entryPoint = script, else command joined by spaces; arguments =
 * args (null when none). The spec step is matched by name in `status.taskSpec.steps`, falling back
 * to the same index when both lists have the same length (unnamed steps report `unnamed-<i>`).
 */
export function stepAttestations(run: TaskRun): StepAttestation[] {
  const specSteps = run.status?.taskSpec?.steps ?? [];
  const states = run.status?.steps ?? [];
  return states.map((state, i) => {
    const spec =
      specSteps.find((s) => s.name !== undefined && s.name === state.name) ??
      (specSteps.length === states.length ? specSteps[i] : undefined) ??
      {};
    return stepAttestation(spec, state);
  });
}

function stepAttestation(spec: Step, state: StepState): StepAttestation {
  return {
    entryPoint: spec.script ? spec.script : (spec.command ?? []).join(' '),
    arguments: spec.args && spec.args.length > 0 ? spec.args : null,
    environment: { container: state.name ?? '', image: stepImageUri(state.imageID) },
    annotations: null,
  };
}

export function taskRunBuildConfig(run: TaskRun): { steps: StepAttestation[] } {
  return { steps: stepAttestations(run) };
}

export function pipelineRunBuildConfig(
  run: PipelineRun,
  executed: readonly ExecutedTask[],
  unresolved: readonly UnresolvedChild[],
): Record<string, unknown> {
  const spec = run.status?.pipelineSpec;
  const note = unresolved.length > 0 ? { unresolvedChildRuns: unresolved } : {};
  if (!spec) return { tasks: null, ...note };
  const lastByIndex = lastNonFinally(executed);
  const tasks = executed.map((e) => taskAttestation(run, e, lastByIndex.get(e) ?? ''));
  return { tasks, ...note };
}

function taskAttestation(pr: PipelineRun, e: ExecutedTask, lastBefore: string): Record<string, unknown> {
  const tr = e.run;
  let after = [...(e.task.runAfter ?? [])];
  for (const ref of resultRefTasks(e.task)) if (!after.includes(ref)) after.push(ref);
  if (after.length === 0 && e.isFinally && lastBefore !== '') after = [lastBefore];
  const steps = stepAttestations(tr);
  const status = statusWord(tr.status);
  return {
    name: e.task.name,
    ...(after.length > 0 ? { after } : {}),
    ref: e.task.taskRef ?? {},
    startedOn: utcTimestamp(tr.status?.startTime),
    finishedOn: utcTimestamp(tr.status?.completionTime),
    ...(pr.spec?.taskRunTemplate?.serviceAccountName
      ? { serviceAccountName: pr.spec.taskRunTemplate.serviceAccountName }
      : {}),
    ...(status ? { status } : {}),
    ...(steps.length > 0 ? { steps } : {}),
    invocation: invocation(
      tr.metadata,
      tr.status?.provenance?.refSource,
      tr.spec?.params,
      tr.status?.taskSpec?.params ?? [],
    ),
    ...(tr.status?.results && tr.status.results.length > 0 ? { results: tr.status.results } : {}),
  };
}

/** For each executed task, the name of the last non-finally task executed before it (Chains' `last`). */
function lastNonFinally(executed: readonly ExecutedTask[]): Map<ExecutedTask, string> {
  const out = new Map<ExecutedTask, string>();
  let last = '';
  for (const e of executed) {
    out.set(e, last);
    if (!e.isFinally) last = e.task.name;
  }
  return out;
}

const RESULT_REF = /\$\(\s*tasks\.([^.)\s]+)\.results\.[^)]*\)/g;

/** Pipeline tasks whose results this task references in params, matrix params or when expressions (Tekton's PipelineTaskResultRefs). */
export function resultRefTasks(task: ExecutedTask['task']): string[] {
  const texts: string[] = [];
  const addValue = (v: unknown): void => {
    if (typeof v === 'string') texts.push(v);
    else if (Array.isArray(v)) for (const x of v) addValue(x);
    else if (v && typeof v === 'object') for (const x of Object.values(v)) addValue(x);
  };
  for (const p of task.params ?? []) addValue(p.value);
  const matrix = task.matrix as { params?: { value?: unknown }[] } | undefined;
  for (const p of matrix?.params ?? []) addValue(p.value);
  for (const w of task.when ?? []) addValue([w.input ?? '', ...(w.values ?? []), w.cel ?? '']);
  const names: string[] = [];
  for (const t of texts) for (const m of t.matchAll(RESULT_REF)) if (!names.includes(m[1])) names.push(m[1]);
  return names;
}
