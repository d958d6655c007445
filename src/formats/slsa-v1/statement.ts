/**
 * SLSA v1.0 statements: field for field what Chains' `slsa/v2alpha4` emits (see each section
 * builder), in canonical key order. Subjects: TaskRun step (StepAction) results then task results;
 * PipelineRun results, followed by executed children's subjects with deep inspection.
 */
import { appendMerged, buildArtifactSubjects, type SkippedInput } from '../../artifacts/index.ts';
import {
  type ResourceDescriptor,
  SLSA_PROVENANCE_V1,
  STATEMENT_V1,
  type Statement,
} from '../../intoto/index.ts';
import type { ExecutionCheckOutcome } from '../../policy/index.ts';
import type { PipelineRun, TaskRun } from '../../tekton/index.ts';
import { resolveChildren, runLabel } from '../child-runs.ts';
import type { ChildRun, ProvenanceOptions } from '../provenance-types.ts';
import { executionCheckByproducts, runIdentity } from '../run-identity.ts';
import { buildDefinition } from './build-definition.ts';
import { resultByproducts, taskRunByproducts } from './byproducts.ts';
import { pipelineRunDependencies, taskRunDependencies } from './resolved-dependencies.ts';
import { runDetails } from './run-details.ts';

export interface Built {
  statement: Statement;
  skipped: SkippedInput[];
}

export function taskRunStatementV1(
  run: TaskRun,
  options: ProvenanceOptions,
  executionCheck?: ExecutionCheckOutcome,
): Built {
  const subjects = taskRunSubjects(run);
  const deps = taskRunDependencies(run);
  const predicate = {
    buildDefinition: buildDefinition({
      buildType: options.buildType,
      meta: run.metadata,
      spec: run.spec,
      ref: run.spec?.taskRef,
      provenance: run.status?.provenance,
      resolvedDependencies: deps.items,
      notes: { ...runIdentity(run) },
    }),
    runDetails: runDetails(options.builderId, run.metadata, run.status, [
      ...taskRunByproducts(run),
      ...executionCheckByproducts(executionCheck),
    ]),
  };
  return { statement: statement(subjects.items, predicate), skipped: [...subjects.skipped, ...deps.skipped] };
}

export function pipelineRunStatementV1(
  run: PipelineRun,
  children: readonly ChildRun[],
  options: ProvenanceOptions,
  executionCheck?: ExecutionCheckOutcome,
): Built {
  const resolved = resolveChildren(run, children);
  const pr = buildArtifactSubjects(run.status?.results, `${runLabel('PipelineRun', run)} results`);
  let subjects = pr.items;
  const skipped: SkippedInput[] = [...resolved.skipped, ...pr.skipped];
  let byproducts = resultByproducts('pipelineRunResults', run.metadata.name ?? '', run.status?.results);
  if (options.deepInspection) {
    for (const e of resolved.executed) {
      const s = taskRunSubjects(e.run);
      subjects = appendMerged(subjects, 'name', s.items);
      skipped.push(...s.skipped);
      byproducts = [...byproducts, ...taskRunByproducts(e.run)];
    }
  }
  const deps = pipelineRunDependencies(run, resolved.executed, options.buildType, options.deepInspection);
  const notes = {
    ...runIdentity(run),
    ...(resolved.unresolved.length > 0 ? { unresolvedChildRuns: resolved.unresolved } : {}),
  };
  const predicate = {
    buildDefinition: buildDefinition({
      buildType: options.buildType,
      meta: run.metadata,
      spec: run.spec,
      ref: run.spec?.pipelineRef,
      provenance: run.status?.provenance,
      resolvedDependencies: deps.items,
      notes,
    }),
    runDetails: runDetails(options.builderId, run.metadata, run.status, [
      ...byproducts,
      ...executionCheckByproducts(executionCheck),
    ]),
  };
  return { statement: statement(subjects, predicate), skipped: [...skipped, ...deps.skipped] };
}

/** Step results first (StepActions), then the TaskRun's own results. */
function taskRunSubjects(run: TaskRun): { items: ResourceDescriptor[]; skipped: SkippedInput[] } {
  const label = runLabel('TaskRun', run);
  let items: ResourceDescriptor[] = [];
  const skipped: SkippedInput[] = [];
  for (const [i, step] of (run.status?.steps ?? []).entries()) {
    const s = buildArtifactSubjects(step.results, `${label} status.steps[${step.name ?? i}].results`);
    items = appendMerged(items, 'name', s.items);
    skipped.push(...s.skipped);
  }
  const t = buildArtifactSubjects(run.status?.results, `${label} results`);
  return { items: appendMerged(items, 'name', t.items), skipped: [...skipped, ...t.skipped] };
}

function statement(subject: Statement['subject'], predicate: unknown): Statement {
  return { _type: STATEMENT_V1, subject, predicateType: SLSA_PROVENANCE_V1, predicate };
}
