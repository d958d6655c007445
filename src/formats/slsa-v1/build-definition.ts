/**
 * SLSA v1.0 `buildDefinition` as Chains' v2alpha4 writes it:
 * - externalParameters: `{runSpec: <spec as given>}` plus `buildConfigSource {ref, repository, path}`
 *   when the run is remote (taskRef/pipelineRef `resolver` set and not `Cluster`) and has
 *   `status.provenance.refSource`. `ref` is `<alg>:<hex>` of one refSource digest; Chains picks by Go
 *   map order (random), we pick sha256, then sha1, then the alphabetically first algorithm.
 * - internalParameters: `tekton-pipelines-feature-flags` when present; with buildType slsa-tekton
 *   also the run's `labels` and `annotations` (`{}` when none; Chains writes null); plus
 *   `unresolvedChildRuns` when a PipelineRun child could not be read (our addition).
 */

import type { ResourceDescriptor } from '../../intoto/index.ts';
import type { ObjectMeta, Provenance, Ref } from '../../tekton/index.ts';
import { BUILD_TYPE_SLSA_TEKTON } from '../provenance-types.ts';

export interface BuildDefinitionInput {
  buildType: string;
  meta: ObjectMeta;
  spec: unknown;
  ref: Ref | undefined;
  provenance: Provenance | undefined;
  resolvedDependencies: ResourceDescriptor[];
  notes?: Record<string, unknown>;
}

export function buildDefinition(input: BuildDefinitionInput): Record<string, unknown> {
  return {
    buildType: input.buildType,
    externalParameters: externalParameters(input),
    internalParameters: internalParameters(input),
    ...(input.resolvedDependencies.length > 0 ? { resolvedDependencies: input.resolvedDependencies } : {}),
  };
}

function externalParameters(input: BuildDefinitionInput): Record<string, unknown> {
  const refSource = input.provenance?.refSource;
  const remote = Boolean(input.ref?.resolver) && input.ref?.resolver !== 'Cluster';
  if (!remote || !refSource) return { runSpec: input.spec ?? {} };
  return {
    runSpec: input.spec ?? {},
    buildConfigSource: {
      ref: pickDigest(refSource.digest),
      repository: refSource.uri ?? '',
      path: refSource.entryPoint ?? '',
    },
  };
}

/** `<alg>:<hex>`: sha256, else sha1, else the alphabetically first algorithm; "" when none. */
export function pickDigest(digest: Readonly<Record<string, string>> | undefined): string {
  const algs = Object.keys(digest ?? {}).sort();
  const alg = ['sha256', 'sha1'].find((a) => algs.includes(a)) ?? algs[0];
  return alg === undefined || !digest ? '' : `${alg}:${digest[alg]}`;
}

function internalParameters(input: BuildDefinitionInput): Record<string, unknown> {
  const flags = input.provenance?.featureFlags;
  return {
    ...(flags ? { 'tekton-pipelines-feature-flags': flags } : {}),
    ...(input.buildType === BUILD_TYPE_SLSA_TEKTON
      ? { labels: { ...input.meta.labels }, annotations: { ...input.meta.annotations } }
      : {}),
    ...input.notes,
  };
}
