import { artifactEnabled, type BackendChoice, type ObserverConfig } from '../config/index.ts';
import type { FormatName } from '../formats/index.ts';
import type { RunKind } from '../tekton/index.ts';

/** What to produce for a run of one kind, and where each artifact type goes. */
export interface AttestationPlan {
  /** the run's provenance; absent when disabled for the kind */
  provenance?: { format: FormatName; storage: readonly BackendChoice[] };
  /** `.sig` signatures of the images a TaskRun built; absent for PipelineRuns or when disabled */
  imageSignatures?: { storage: readonly BackendChoice[] };
}

/** Which artifact types are on for a kind (Chains' Artifact.Enabled()), from the configuration. */
export function planAttestation(config: ObserverConfig, kind: RunKind): AttestationPlan {
  const forKind = kind === 'TaskRun' ? config.taskrun : config.pipelinerun;
  return {
    ...(artifactEnabled(forKind) ? { provenance: { format: forKind.format, storage: forKind.storage } } : {}),
    ...(kind === 'TaskRun' && artifactEnabled(config.oci)
      ? { imageSignatures: { storage: config.oci.storage } }
      : {}),
  };
}

/** The backends an artifact of this type goes to under the plan. */
export function storageFor(
  plan: AttestationPlan,
  type: 'provenance' | 'image-signature',
): readonly BackendChoice[] {
  return (type === 'provenance' ? plan.provenance?.storage : plan.imageSignatures?.storage) ?? [];
}
