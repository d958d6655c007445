/**
 * SLSA v0.2 `metadata`: buildStartedOn/buildFinishedOn in UTC, completeness all false, reproducible
 * only with label `chains.tekton.dev/reproducible: "true"` (as Chains). Unlike Chains,
 * buildFinishedOn is present whenever any time is known (see runTimes): Conforma picks the newest
 * attestation by it and drops all of them if one lacks it.
 */
import type { ObjectMeta, RunStatusCommon } from '../../tekton/index.ts';
import { runTimes } from '../run-times.ts';

export interface MetadataV02 {
  buildStartedOn?: string;
  buildFinishedOn?: string;
  completeness: { parameters: boolean; environment: boolean; materials: boolean };
  reproducible: boolean;
}

export function metadata(meta: ObjectMeta, status: RunStatusCommon | undefined): MetadataV02 {
  const times = runTimes(status);
  return {
    ...(times.startedOn ? { buildStartedOn: times.startedOn } : {}),
    ...(times.finishedOn ? { buildFinishedOn: times.finishedOn } : {}),
    completeness: { parameters: false, environment: false, materials: false },
    reproducible: meta.labels?.['chains.tekton.dev/reproducible'] === 'true',
  };
}
