import type { RunKey } from '../tekton/index.ts';

/**
 * The finalizer that holds a run for the observer (`observer.finalizers`), in our own domain:
 * finalizer names under chains.tekton.dev belong to Tekton Chains (whose finalizers are
 * `chains.tekton.dev/taskrun` and `chains.tekton.dev/pipelinerun`); `kubectl get -o yaml` shows
 * who holds the run.
 */
export const OBSERVER_FINALIZER = 'provenance-observer.dev/capture';

/**
 * The name earlier releases used. Still removed wherever it is found (and replaced by
 * OBSERVER_FINALIZER when the run is held), so runs held by an older observer are let go after an
 * upgrade and nothing is left behind (docs/deletions.md).
 */
export const LEGACY_OBSERVER_FINALIZERS: readonly string[] = ['chains.tekton.dev/provenance-observer'];

/** What a hold needs of the run as observed. */
export interface HeldObject {
  metadata?: { resourceVersion?: string; finalizers?: string[]; deletionTimestamp?: string };
}

/**
 * Finalizer mode: an unfinished run is held (its deletion waits) until the observer has captured
 * it finished. Both calls are idempotent, keep every other finalizer, and never throw (a failure
 * is logged and the next observation of the run tries again).
 */
export interface RunHold {
  /** Adds our finalizer to an unfinished run that lacks it; a run already being deleted is released instead. */
  hold(key: RunKey, object: HeldObject): Promise<void>;
  /** Removes our finalizer when the run carries it (after the capture, or when nothing is to be attested). */
  release(key: RunKey, object: HeldObject): Promise<void>;
}
