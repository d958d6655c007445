/**
 * SLSA v1.0 `resolvedDependencies` (Chains v2alpha4 `internal/resolved_dependencies`), in order:
 * TaskRun: `task` (refSource) · step images · sidecar images · StepAction step-result inputs ·
 * `stepAction/<step>` (remote StepAction refSource) · CHAINS-GIT + ARTIFACT_INPUTS (`inputs/result`).
 * PipelineRun: `pipeline` (refSource) · per executed child: `pipelineTask` (refSource; with
 * slsa-tekton always, carrying the whole TaskRun as base64 canonical JSON `content`), its
 * `stepAction/<step>` entries, its step and sidecar images · with deep inspection each child's
 * StepAction inputs · PR ARTIFACT_INPUTS · with deep inspection each child's CHAINS-GIT +
 * ARTIFACT_INPUTS · PR CHAINS-GIT.
 * Dedup: by {uri, digest, content} ignoring name, first wins, but `task`, `pipeline` and
 * `stepAction/*` entries are always kept.
 */
import {
  artifactInputs,
  containerImages,
  type Extraction,
  gitInput,
  hintedInputs,
  material,
} from '../../artifacts/index.ts';
import type { ResourceDescriptor } from '../../intoto/index.ts';
import type { PipelineRun, RefSource, TaskRun } from '../../tekton/index.ts';
import { canonicalJson } from '../canonical-json.ts';
import { type ExecutedTask, runLabel } from '../child-runs.ts';
import { BUILD_TYPE_SLSA_TEKTON } from '../provenance-types.ts';
import { pipelineGitSources, taskHintedInputs } from '../slsa-v02/materials.ts';

type Deps = Extraction<ResourceDescriptor>;

const INPUT_RESULT = 'inputs/result';

export function taskRunDependencies(run: TaskRun): Deps {
  return finish([
    refDependency('task', run.status?.provenance?.refSource),
    ...imageDependencies(run),
    stepActionInputs(run),
    stepActionRefs(run),
    named(taskHintedInputs(run), INPUT_RESULT),
  ]);
}

export function pipelineRunDependencies(
  run: PipelineRun,
  executed: readonly ExecutedTask[],
  buildType: string,
  deep: boolean,
): Deps {
  const parts: Deps[] = [refDependency('pipeline', run.status?.provenance?.refSource)];
  for (const e of executed)
    parts.push(pipelineTaskDependency(e.run, buildType), stepActionRefs(e.run), ...imageDependencies(e.run));
  if (deep) for (const e of executed) parts.push(stepActionInputs(e.run));
  const source = runLabel('PipelineRun', run);
  parts.push(named(artifactInputs(run.status?.results, `${source} results`), INPUT_RESULT));
  if (deep) for (const e of executed) parts.push(named(taskHintedInputs(e.run), INPUT_RESULT));
  parts.push(named(gitInput(pipelineGitSources(run), source), INPUT_RESULT));
  return finish(parts);
}

function pipelineTaskDependency(run: TaskRun, buildType: string): Deps {
  const ref = refDependency('pipelineTask', run.status?.provenance?.refSource);
  if (buildType !== BUILD_TYPE_SLSA_TEKTON) return ref;
  const content = Buffer.from(canonicalJson(run), 'utf8').toString('base64');
  return { items: [{ ...(ref.items[0] ?? { name: 'pipelineTask' }), content }], skipped: [] };
}

function refDependency(name: string, ref: RefSource | undefined): Deps {
  if (!ref?.uri && !ref?.digest) return { items: [], skipped: [] };
  return { items: [{ name, uri: ref.uri, digest: { ...ref.digest } }], skipped: [] };
}

function imageDependencies(run: TaskRun): Deps[] {
  const source = runLabel('TaskRun', run);
  return (['steps', 'sidecars'] as const).map((field) => {
    const images = containerImages(run.status?.[field], source, field);
    return { items: images.items.map(material), skipped: images.skipped };
  });
}

/** CHAINS-GIT and ARTIFACT_INPUTS written by StepActions as step results. */
function stepActionInputs(run: TaskRun): Deps {
  const parts = (run.status?.steps ?? []).map((s, i) => {
    const source = `${runLabel('TaskRun', run)} status.steps[${s.name ?? i}].results`;
    return named(hintedInputs({ results: s.results }, s.results, source), INPUT_RESULT);
  });
  return { items: parts.flatMap((p) => p.items), skipped: parts.flatMap((p) => p.skipped) };
}

function stepActionRefs(run: TaskRun): Deps {
  const parts = (run.status?.steps ?? []).map((s) =>
    refDependency(`stepAction/${s.name ?? ''}`, s.provenance?.refSource),
  );
  return { items: parts.flatMap((p) => p.items), skipped: [] };
}

function named(d: Deps, name: string): Deps {
  return { items: d.items.map((i) => ({ name, ...i })), skipped: d.skipped };
}

function finish(parts: readonly Deps[]): Deps {
  const seen = new Set<string>();
  const items: ResourceDescriptor[] = [];
  for (const d of parts.flatMap((p) => p.items)) {
    const key = canonicalJson({ uri: d.uri, digest: d.digest, content: d.content });
    const alwaysKept = d.name === 'task' || d.name === 'pipeline' || d.name?.startsWith('stepAction/');
    if (seen.has(key) && !alwaysKept) continue;
    seen.add(key);
    items.push(d);
  }
  return { items, skipped: parts.flatMap((p) => p.skipped) };
}
