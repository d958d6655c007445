/**
 * SLSA v0.2 statements (Chains' `in-toto` / `slsa/v1` format) for TaskRuns and PipelineRuns.
 * Predicate fields: builder, buildType (`tekton.dev/v1/TaskRun` | `tekton.dev/v1/PipelineRun`),
 * invocation, buildConfig, metadata, materials. Subjects: TaskRun results; PipelineRun results,
 * preceded by child TaskRun subjects with deep inspection.
 */
import { allOutputSubjects, appendMerged, type SkippedInput } from '../../artifacts/index.ts';
import { SLSA_PROVENANCE_V02, STATEMENT_V01, type Statement } from '../../intoto/index.ts';
import type { ExecutionCheckOutcome } from '../../policy/index.ts';
import type { PipelineRun, TaskRun } from '../../tekton/index.ts';
import { resolveChildren, runLabel } from '../child-runs.ts';
import type { ChildRun, ProvenanceOptions } from '../provenance-types.ts';
import { EXECUTION_CHECK_FIELD, runIdentity } from '../run-identity.ts';
import { pipelineRunBuildConfig, taskRunBuildConfig } from './build-config.ts';
import { invocation } from './invocation.ts';
import { pipelineRunMaterials, taskRunMaterials } from './materials.ts';
import { metadata } from './metadata.ts';

export interface Built {
  statement: Statement;
  skipped: SkippedInput[];
}

export function taskRunStatementV02(
  run: TaskRun,
  options: ProvenanceOptions,
  executionCheck?: ExecutionCheckOutcome,
): Built {
  const subjects = allOutputSubjects(run.status?.results, `${runLabel('TaskRun', run)} results`);
  const materials = taskRunMaterials(run);
  const predicate = {
    builder: { id: options.builderId },
    buildType: 'tekton.dev/v1/TaskRun',
    invocation: invocation(
      run.metadata,
      run.status?.provenance?.refSource,
      run.spec?.params,
      run.status?.taskSpec?.params,
      runIdentity(run),
    ),
    buildConfig: {
      ...taskRunBuildConfig(run),
      ...(executionCheck ? { [EXECUTION_CHECK_FIELD]: executionCheck } : {}),
    },
    metadata: metadata(run.metadata, run.status),
    materials: materials.items,
  };
  return {
    statement: statement(subjects.items, predicate),
    skipped: [...subjects.skipped, ...materials.skipped],
  };
}

export function pipelineRunStatementV02(
  run: PipelineRun,
  children: readonly ChildRun[],
  options: ProvenanceOptions,
  executionCheck?: ExecutionCheckOutcome,
): Built {
  const resolved = resolveChildren(run, children);
  const prSubjects = allOutputSubjects(run.status?.results, `${runLabel('PipelineRun', run)} results`);
  let subjects = prSubjects.items;
  const skipped: SkippedInput[] = [...resolved.skipped];
  if (options.deepInspection) {
    let fromChildren: typeof subjects = [];
    for (const e of resolved.executed) {
      const s = allOutputSubjects(e.run.status?.results, `${runLabel('TaskRun', e.run)} results`);
      fromChildren = appendMerged(fromChildren, 'name', s.items);
      skipped.push(...s.skipped);
    }
    subjects = appendMerged(fromChildren, 'name', prSubjects.items);
  }
  skipped.push(...prSubjects.skipped);
  const materials = pipelineRunMaterials(run, resolved.executed, options.deepInspection);
  const predicate = {
    builder: { id: options.builderId },
    buildType: 'tekton.dev/v1/PipelineRun',
    invocation: invocation(
      run.metadata,
      run.status?.provenance?.refSource,
      run.spec?.params,
      run.status?.pipelineSpec?.params,
      runIdentity(run),
    ),
    buildConfig: {
      ...pipelineRunBuildConfig(run, resolved.executed, resolved.unresolved),
      ...(executionCheck ? { [EXECUTION_CHECK_FIELD]: executionCheck } : {}),
    },
    metadata: metadata(run.metadata, run.status),
    materials: materials.items,
  };
  return { statement: statement(subjects, predicate), skipped: [...skipped, ...materials.skipped] };
}

function statement(subject: Statement['subject'], predicate: unknown): Statement {
  return { _type: STATEMENT_V01, subject, predicateType: SLSA_PROVENANCE_V02, predicate };
}
