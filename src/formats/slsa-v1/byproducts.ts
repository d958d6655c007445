/**
 * SLSA v1.0 `runDetails.byproducts` (Chains v2alpha4): every result that is not an image hint
 * (`*IMAGE_URL`, `*IMAGE_DIGEST`, `IMAGES`) nor a build artifact (`*ARTIFACT_OUTPUTS` with
 * isBuildArtifact "true", or not an object), as `{name, content: base64(Go JSON of the value),
 * mediaType: "application/json"}`. Names: `taskRunResults/<taskRun>/<result>`,
 * `stepResults/<taskRun>/<result>`, `pipelineRunResults/<pipelineRun>/<result>`.
 */
import { IMAGES_RESULT, isBuildArtifactResult } from '../../artifacts/index.ts';
import type { ResourceDescriptor } from '../../intoto/index.ts';
import type { RunResult, TaskRun } from '../../tekton/index.ts';
import { goJson } from '../canonical-json.ts';

export function resultByproducts(
  prefix: string,
  runName: string,
  results: readonly RunResult[] | undefined,
): ResourceDescriptor[] {
  return (results ?? []).filter(isByproduct).map((r) => ({
    name: `${prefix}/${runName}/${r.name}`,
    content: Buffer.from(goJson(r.value), 'utf8').toString('base64'),
    mediaType: 'application/json',
  }));
}

/** A TaskRun's own results, then its steps' (StepAction) results. */
export function taskRunByproducts(run: TaskRun): ResourceDescriptor[] {
  const name = run.metadata.name ?? '';
  return [
    ...resultByproducts('taskRunResults', name, run.status?.results),
    ...(run.status?.steps ?? []).flatMap((s) => resultByproducts('stepResults', name, s.results)),
  ];
}

function isByproduct(r: RunResult): boolean {
  return !(
    r.name.endsWith('IMAGE_URL') ||
    r.name.endsWith('IMAGE_DIGEST') ||
    r.name === IMAGES_RESULT ||
    isBuildArtifactResult(r)
  );
}
