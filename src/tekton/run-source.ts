import type { RunKey } from './run-ref.ts';

/**
 * Where runs come from. The controller learns that a run exists and may need work; it captures a
 * finished run's object into the index and re-reads the run itself when it reconciles. A source
 * keeps no run objects: each observation carries its object only until `observe` settles, so
 * memory does not grow with the number of runs in the cluster.
 */
export interface RunObservation {
  key: RunKey;
  uid: string;
  /** Succeeded condition present and not Unknown */
  done: boolean;
  /** the run's chains.tekton.dev/* annotations as observed */
  annotations: Record<string, string>;
  /** `live`: a change seen on the watch (served first); `backlog`: found by a (re-)list */
  origin: 'live' | 'backlog';
  /** status.completionTime in ms since the epoch, when the run has one */
  completedAt?: number;
  /** metadata.resourceVersion as observed (to recognise the echo of our own write) */
  resourceVersion?: string;
  /**
   * The run as served (for a DELETED event: its final state), without metadata.managedFields;
   * what a capture stores. Only valid until `observe` settles: do not keep it.
   */
  object?: Record<string, unknown>;
  /** true when the observation is a DELETED watch event (the run is gone from the cluster) */
  deleted?: boolean;
}

export interface RunSource {
  /**
   * Starts listing and watching; resolves once the first list of every kind has been delivered.
   * A list page is delivered whole and the next page is only fetched once every `observe` of the
   * page settled (back-pressure: a re-list of a large cluster holds one page of objects at a time).
   */
  start(observe: (observation: RunObservation) => void | Promise<void>): Promise<void>;
  stop(): void;
  /** true once the first list completed and while the watch is established */
  synced(): boolean;
}
