/**
 * SLSA v0.2 `materials`, in Chains' order, merged with AppendMaterials semantics.
 * TaskRun: step images, sidecar images, CHAINS-GIT source, ARTIFACT_INPUTS.
 * PipelineRun: pipeline refSource; per executed child (pipelineSpec order) its step images, sidecar
 * images and task refSource; then PR ARTIFACT_INPUTS; with deep inspection each child's CHAINS-GIT and
 * ARTIFACT_INPUTS; then the PR-level CHAINS-GIT source.
 */
import {
  appendMerged,
  artifactInputs,
  containerImages,
  type Extraction,
  gitInput,
  hintedInputs,
  material,
} from '../../artifacts/index.ts';
import type { ResourceDescriptor } from '../../intoto/index.ts';
import type { PipelineRun, RefSource, TaskRun } from '../../tekton/index.ts';
import type { ExecutedTask } from '../child-runs.ts';
import { runLabel } from '../child-runs.ts';

type Materials = Extraction<ResourceDescriptor>;

export function taskRunMaterials(run: TaskRun): Materials {
  const parts = [...imageMaterials(run), taskHintedInputs(run)];
  return concat(parts);
}

export function pipelineRunMaterials(
  run: PipelineRun,
  executed: readonly ExecutedTask[],
  deep: boolean,
): Materials {
  const parts: Materials[] = [refSourceMaterial(run.status?.provenance?.refSource)];
  for (const e of executed)
    parts.push(...imageMaterials(e.run), refSourceMaterial(e.run.status?.provenance?.refSource));
  const source = runLabel('PipelineRun', run);
  parts.push(artifactInputs(run.status?.results, `${source} results`));
  if (deep) for (const e of executed) parts.push(taskHintedInputs(e.run));
  parts.push(gitInput(pipelineGitSources(run), source));
  return concat(parts);
}

/** Step then sidecar images of one TaskRun. */
export function imageMaterials(run: TaskRun): Materials[] {
  const source = runLabel('TaskRun', run);
  const steps = containerImages(run.status?.steps, source, 'steps');
  const sidecars = containerImages(run.status?.sidecars, source, 'sidecars');
  return [
    { items: steps.items.map(material), skipped: steps.skipped },
    { items: sidecars.items.map(material), skipped: sidecars.skipped },
  ];
}

/** CHAINS-GIT (taskSpec defaults < params < results) then ARTIFACT_INPUTS of one TaskRun. */
export function taskHintedInputs(run: TaskRun): Materials {
  const source = runLabel('TaskRun', run);
  return hintedInputs(
    { defaults: run.status?.taskSpec?.params, params: run.spec?.params, results: run.status?.results },
    run.status?.results,
    `${source} results`,
  );
}

export function pipelineGitSources(run: PipelineRun) {
  return {
    defaults: run.status?.pipelineSpec?.params,
    params: run.spec?.params,
    results: run.status?.results,
  };
}

export function refSourceMaterial(ref: RefSource | undefined): Materials {
  if (!ref?.uri && !ref?.digest) return { items: [], skipped: [] };
  return { items: [{ uri: ref.uri, digest: { ...ref.digest } }], skipped: [] };
}

function concat(parts: readonly Materials[]): Materials {
  let items: ResourceDescriptor[] = [];
  for (const p of parts) items = appendMerged(items, 'uri', p.items);
  return { items, skipped: parts.flatMap((p) => p.skipped) };
}
