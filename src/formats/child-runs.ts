/**
 * Which child TaskRuns of a PipelineRun count as executed, as Chains decides: walk
 * `status.pipelineSpec.tasks` then `finally`; for each pipeline task take every found child whose
 * pipeline task name (from childReferences, else label `tekton.dev/pipelineTask`) matches and that
 * has `status.completionTime` (matrix fan-out gives several per task, in the order passed in).
 * Children that are missing, not TaskRuns (CustomRun), unfinished, or not the PipelineRun's own
 * (not-owned, created-after-completion: see reconcile/children.ts) never block the attestation and
 * are never used for subjects, materials or task references: they come back in `unresolved` and
 * `skipped`.
 */
import type { SkippedInput } from '../artifacts/index.ts';
import { PIPELINE_TASK_LABEL, type PipelineRun, type PipelineTask, type TaskRun } from '../tekton/index.ts';
import type { ChildRun } from './provenance-types.ts';

export interface ExecutedTask {
  task: PipelineTask;
  /** index in tasks ++ finally */
  index: number;
  isFinally: boolean;
  run: TaskRun;
}

export interface UnresolvedChild {
  name: string;
  pipelineTaskName?: string;
  state: 'missing' | 'not-a-taskrun' | 'unfinished' | 'not-owned' | 'created-after-completion';
  kind?: string;
}

export interface ChildResolution {
  executed: ExecutedTask[];
  unresolved: UnresolvedChild[];
  skipped: SkippedInput[];
}

const SKIP_CODE = {
  missing: 'child_missing',
  'not-a-taskrun': 'child_not_a_taskrun',
  unfinished: 'child_unfinished',
  'not-owned': 'not_owned',
  'created-after-completion': 'created_after_completion',
} as const;

export function resolveChildren(run: PipelineRun, children: readonly ChildRun[]): ChildResolution {
  const unresolved: UnresolvedChild[] = [];
  const found: { run: TaskRun; taskName?: string }[] = [];
  for (const c of children) {
    if (c.state === 'found' && c.run.status?.completionTime) {
      found.push({
        run: c.run,
        taskName: c.pipelineTaskName ?? c.run.metadata.labels?.[PIPELINE_TASK_LABEL],
      });
    } else {
      const state = c.state === 'found' ? 'unfinished' : c.state;
      const kind = c.state === 'found' ? 'TaskRun' : c.kind;
      unresolved.push({
        name: c.name,
        pipelineTaskName: c.pipelineTaskName,
        state,
        ...(kind ? { kind } : {}),
      });
    }
  }
  const spec = run.status?.pipelineSpec;
  const tasks = spec?.tasks ?? [];
  const executed = [...tasks, ...(spec?.finally ?? [])].flatMap((task, index) =>
    found
      .filter((f) => f.taskName === task.name)
      .map((f) => ({ task, index, isFinally: index >= tasks.length, run: f.run })),
  );
  const skipped = unresolved.map(
    (u): SkippedInput => ({
      source: `PipelineRun/${run.metadata.name ?? ''} status.childReferences[${u.name}]`,
      code: SKIP_CODE[u.state],
      reason: `child ${u.kind ?? 'run'} ${u.name}${u.pipelineTaskName ? ` (pipeline task ${u.pipelineTaskName})` : ''} is ${u.state}; attested without it`,
    }),
  );
  return { executed, unresolved, skipped };
}

/** `TaskRun/<name>`: how skipped sources and byproduct names identify a run. */
export function runLabel(kind: 'TaskRun' | 'PipelineRun', run: { metadata: { name?: string } }): string {
  return `${kind}/${run.metadata.name ?? ''}`;
}
