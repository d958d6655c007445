import { type RunStatusCommon, succeededCondition } from '../tekton/index.ts';
import { utcTimestamp } from './timestamps.ts';

/**
 * A run's start and finish in UTC. Finish falls back to the Succeeded condition's
 * lastTransitionTime, then to the start, so a done run always has one (Conforma needs it).
 */
export function runTimes(status: RunStatusCommon | undefined): { startedOn?: string; finishedOn?: string } {
  const startedOn = utcTimestamp(status?.startTime);
  const finishedOn =
    utcTimestamp(status?.completionTime) ??
    utcTimestamp(succeededCondition(status)?.lastTransitionTime) ??
    startedOn;
  return { startedOn, finishedOn };
}
