/**
 * The extractors combined into the roles Chains gives them: subjects as tektoncd/chains
 * pkg/chains/formats/slsa/extract/extract.go (SubjectDigests, SubjectsFromBuildArtifact), resolved
 * dependencies as pkg/chains/formats/slsa/internal/resolved_dependencies/resolved_dependencies.go
 * and materials as pkg/chains/formats/slsa/internal/material/material.go.
 * Each returns in-toto descriptors in a deterministic order plus what was skipped.
 * `source` names the run, e.g. `TaskRun/build-1`; locations inside it are appended.
 */
import type { ResourceDescriptor } from '../intoto/index.ts';
import type { RunResult } from '../tekton/index.ts';
import {
  ARTIFACT_INPUTS,
  ARTIFACT_OUTPUTS,
  artifactPairsFromResults,
  type DigestedArtifact,
  structuredFromResults,
} from './artifact-hints.ts';
import { appendMerged } from './descriptor-merge.ts';
import { type GitHintSources, gitSourceFromHints } from './git-hints.ts';
import { imagesFromResults } from './image-hints.ts';
import type { Extraction, SkippedInput } from './skipped.ts';

/**
 * slsa/v0.2 (and v2alpha3) subjects of one result list: images (IMAGE pairs, IMAGES), then
 * ARTIFACT_URI pairs, then every valid ARTIFACT_OUTPUTS object (with or without isBuildArtifact).
 */
export function allOutputSubjects(
  results: readonly RunResult[] | undefined,
  source: string,
): Extraction<ResourceDescriptor> {
  const images = imagesFromResults(results, source);
  const pairs = artifactPairsFromResults(results, source);
  const outputs = structuredFromResults(results, source, ARTIFACT_OUTPUTS);
  let items = appendMerged([], 'name', images.items.map(imageSubject));
  items = appendMerged(items, 'name', pairs.items.map(namedSubject));
  items = appendMerged(items, 'name', outputs.items.map(namedSubject));
  return { items, skipped: [...images.skipped, ...pairs.skipped, ...outputs.skipped] };
}

/**
 * slsa/v1.0 (v2alpha4) subjects of one result list (Chains' SubjectsFromBuildArtifact): ARTIFACT_OUTPUTS
 * with isBuildArtifact "true", then images. ARTIFACT_URI pairs and flagless outputs are byproducts.
 */
export function buildArtifactSubjects(
  results: readonly RunResult[] | undefined,
  source: string,
): Extraction<ResourceDescriptor> {
  const outputs = structuredFromResults(results, source, ARTIFACT_OUTPUTS, { onlyBuildArtifacts: true });
  const images = imagesFromResults(results, source);
  let items = appendMerged([], 'name', outputs.items.map(namedSubject));
  items = appendMerged(items, 'name', images.items.map(imageSubject));
  return { items, skipped: [...outputs.skipped, ...images.skipped] };
}

/** Type-hinted inputs of one run: the CHAINS-GIT source first, then ARTIFACT_INPUTS objects (as Chains' FromTaskParamsAndResults). */
export function hintedInputs(
  git: GitHintSources,
  results: readonly RunResult[] | undefined,
  source: string,
): Extraction<ResourceDescriptor> {
  const g = gitSourceFromHints(git, source);
  const inputs = artifactInputs(results, source);
  return {
    items: appendMerged(g.items.map(material), 'uri', inputs.items),
    skipped: [...g.skipped, ...inputs.skipped],
  };
}

/** ARTIFACT_INPUTS objects only, as materials `{uri, digest}`. */
export function artifactInputs(
  results: readonly RunResult[] | undefined,
  source: string,
): Extraction<ResourceDescriptor> {
  const inputs = structuredFromResults(results, source, ARTIFACT_INPUTS);
  return { items: appendMerged([], 'uri', inputs.items.map(material)), skipped: inputs.skipped };
}

/** The CHAINS-GIT source alone, as a material. */
export function gitInput(git: GitHintSources, source: string): Extraction<ResourceDescriptor> {
  const g = gitSourceFromHints(git, source);
  return { items: g.items.map(material), skipped: g.skipped };
}

export function material(a: DigestedArtifact): ResourceDescriptor {
  return { uri: a.uri, digest: { [a.alg]: a.hex } };
}

function namedSubject(a: DigestedArtifact): ResourceDescriptor {
  return { name: a.uri, digest: { [a.alg]: a.hex } };
}

function imageSubject(i: { repository: string; digest: string }): ResourceDescriptor {
  return { name: i.repository, digest: { sha256: i.digest.slice('sha256:'.length) } };
}

/** Concatenates extractions' skipped lists (helper for callers that gather several). */
export function skippedOf(...extractions: { skipped: SkippedInput[] }[]): SkippedInput[] {
  return extractions.flatMap((e) => e.skipped);
}
