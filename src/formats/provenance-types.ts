import type { SkippedInput } from '../artifacts/index.ts';
import type { Statement } from '../intoto/index.ts';
import type { ImageRef } from '../oci/index.ts';
import type { ExecutionCheckOutcome } from '../policy/index.ts';
import type { PipelineRun, TaskRun } from '../tekton/index.ts';
import type { FormatName } from './format-name.ts';

export const DEFAULT_BUILDER_ID = 'https://tekton.dev/chains/v2';
export const BUILD_TYPE_SLSA = 'https://tekton.dev/chains/v2/slsa';
export const BUILD_TYPE_SLSA_TEKTON = 'https://tekton.dev/chains/v2/slsa-tekton';

export interface ProvenanceOptions {
  format: FormatName;
  /** `predicate.builder.id` / `runDetails.builder.id`; Chains' default is https://tekton.dev/chains/v2 */
  builderId: string;
  /** slsa/v1.0 only: BUILD_TYPE_SLSA (default) or BUILD_TYPE_SLSA_TEKTON (adds labels, annotations, whole child TaskRuns) */
  buildType: string;
  /** PipelineRuns: also read child TaskRuns' type hints (Chains `artifacts.pipelinerun.enable-deep-inspection`) */
  deepInspection: boolean;
}

/** A child of a PipelineRun as the caller found it (childReferences + a lookup). */
export type ChildRun = { name: string; pipelineTaskName?: string } & (
  | { state: 'found'; run: TaskRun }
  | {
      /** not-owned / created-after-completion / replaced: the TaskRun does not belong to the PipelineRun (a swap) */
      state:
        | 'missing'
        | 'not-a-taskrun'
        | 'unfinished'
        | 'not-owned'
        | 'created-after-completion'
        | 'replaced';
      kind?: string;
    }
);

export type ProvenanceInput =
  /** executionCheck: the outcome of the execution check, when it ran (recorded in the provenance) */
  | { kind: 'TaskRun'; run: TaskRun; executionCheck?: ExecutionCheckOutcome }
  | { kind: 'PipelineRun'; run: PipelineRun; children: ChildRun[]; executionCheck?: ExecutionCheckOutcome };

export interface Provenance {
  statement: Statement;
  /** canonical JSON bytes of `statement`: what gets signed */
  payload: Uint8Array;
  /** subjects that are OCI images with a sha256 digest, in subject order: where `.att` goes */
  images: ImageRef[];
  /** inputs that could not be used, with reasons; the statement was still built */
  skipped: SkippedInput[];
}
