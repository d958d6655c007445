export type { DigestedArtifact, StructuredArtifact, StructuredOptions } from './artifact-hints.ts';
export {
  ARTIFACT_INPUTS,
  ARTIFACT_OUTPUTS,
  artifactPairsFromResults,
  isBuildArtifactResult,
  structuredFromResults,
} from './artifact-hints.ts';
export { appendMerged } from './descriptor-merge.ts';
export { type DigestParse, parseDigest } from './digest.ts';
export { GIT_COMMIT, GIT_URL, type GitHintSources, gitSourceFromHints, spdxGit } from './git-hints.ts';
export { IMAGES_RESULT, imagesFromResults } from './image-hints.ts';
export { type ImageDigestRef, type ImageParse, parseImageDigestRef } from './image-ref.ts';
export { type HintPair, hintPairs } from './pair-hints.ts';
export {
  allOutputSubjects,
  artifactInputs,
  buildArtifactSubjects,
  gitInput,
  hintedInputs,
  material,
  skippedOf,
} from './roles.ts';
export {
  type Extraction,
  MAX_HINT_VALUE_BYTES,
  MAX_IMAGES_VALUE_BYTES,
  type SkipCode,
  type SkippedInput,
  uniqueSkipped,
} from './skipped.ts';
export { containerImages, OCI_SCHEME, parseImageId, stepImageUri } from './step-images.ts';
