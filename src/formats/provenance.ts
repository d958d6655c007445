/**
 * The public entry points: build a run's provenance statement in the configured format, and list
 * the images a TaskRun built (Chains' OCIArtifact signable). Pure and deterministic: no clock, no
 * network, no randomness; the same input gives byte-identical `payload`. Invalid type hints are
 * skipped and reported in `skipped`, never thrown.
 */
import {
  imagesFromResults,
  parseImageDigestRef,
  type SkippedInput,
  uniqueSkipped,
} from '../artifacts/index.ts';
import type { Statement } from '../intoto/index.ts';
import type { ImageRef } from '../oci/index.ts';
import type { TaskRun } from '../tekton/index.ts';
import { canonicalJsonBytes } from './canonical-json.ts';
import { runLabel } from './child-runs.ts';
import type { Provenance, ProvenanceInput, ProvenanceOptions } from './provenance-types.ts';
import { pipelineRunStatementV1, taskRunStatementV1 } from './slsa-v1/statement.ts';
import { pipelineRunStatementV02, taskRunStatementV02 } from './slsa-v02/statement.ts';

export function buildProvenance(input: ProvenanceInput, options: ProvenanceOptions): Provenance {
  const built = buildStatement(input, options);
  return {
    statement: built.statement,
    payload: canonicalJsonBytes(built.statement),
    images: subjectImages(built.statement),
    skipped: uniqueSkipped(built.skipped),
  };
}

function buildStatement(
  input: ProvenanceInput,
  options: ProvenanceOptions,
): { statement: Statement; skipped: SkippedInput[] } {
  switch (input.kind) {
    case 'TaskRun':
      return options.format === 'slsa/v1.0'
        ? taskRunStatementV1(input.run, options, input.executionCheck)
        : taskRunStatementV02(input.run, options, input.executionCheck);
    case 'PipelineRun':
      return options.format === 'slsa/v1.0'
        ? pipelineRunStatementV1(input.run, input.children, options, input.executionCheck)
        : pipelineRunStatementV02(input.run, input.children, options, input.executionCheck);
  }
}

/**
 * Subjects that name an OCI image: a sha256 digest and a name already in go-containerregistry's
 * normalised form (so `gcr.io/x/y` counts, a bare `abc` from an ARTIFACT_URI hint does not —
 * Chains would push that one to `index.docker.io/library/abc`).
 */
export function subjectImages(statement: Statement): ImageRef[] {
  const out: ImageRef[] = [];
  for (const s of statement.subject) {
    const hex = s.digest?.sha256;
    if (!s.name || !hex) continue;
    const parsed = parseImageDigestRef(`${s.name}@sha256:${hex}`);
    if (!parsed.ok || parsed.repository !== s.name) continue;
    if (!out.some((i) => i.repository === parsed.repository && i.digest === parsed.digest)) {
      out.push({ repository: parsed.repository, digest: parsed.digest });
    }
  }
  return out;
}

/** Images a TaskRun built (IMAGE pairs and IMAGES in its results): each gets a `.sig`. */
export function imagesToSign(run: TaskRun): { images: ImageRef[]; skipped: SkippedInput[] } {
  const found = imagesFromResults(run.status?.results, `${runLabel('TaskRun', run)} results`);
  return { images: found.items, skipped: uniqueSkipped(found.skipped) };
}
