import type { RunKey } from './run-ref.ts';

/**
 * Where runs come from. The controller only learns that a run exists and may need work; it
 * re-reads the run itself. A source keeps no run objects, only what this observation carries, so
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
}

export interface RunSource {
  /** Starts listing and watching; resolves once the first list of every kind has been delivered. */
  start(observe: (observation: RunObservation) => void): Promise<void>;
  stop(): void;
  /** true once the first list completed and while the watch is established */
  synced(): boolean;
}
