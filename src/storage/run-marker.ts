import type { RunRef } from '../tekton/index.ts';
import type { SignedArtifact } from './backend.ts';

/** What the run's mark carries for one artifact, and where that says it is. */
export interface RunMarks {
  /** annotations to set (null removes one), written with `chains.tekton.dev/signed` in one patch */
  annotations: Record<string, string | null>;
  /** e.g. `TaskRun ns/name annotations chains.tekton.dev/payload-…` */
  location: string;
  /** something a person should know (the payload did not fit and is stored elsewhere) */
  note?: string;
}

/**
 * A destination that stores nothing itself: it contributes annotations to the run's mark, which
 * the reconciler writes once every storage backend has stored (one patch of the run per
 * attestation, never a run that claims an attestation not stored everywhere). Chains' `tekton`
 * storage is one. Pure: it never fails and never does I/O.
 */
export interface RunMarker {
  readonly name: 'tekton';
  readonly role: 'marker';
  marksFor(run: RunRef, artifact: SignedArtifact): RunMarks;
}
