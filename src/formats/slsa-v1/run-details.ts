/**
 * SLSA v1.0 `runDetails`: builder id (no version, no builderDependencies, as Chains), metadata
 * `{invocationId: <run uid>, startedOn, finishedOn}` in UTC (finishedOn falls back as runTimes does),
 * and byproducts when there are any.
 */

import type { ResourceDescriptor } from '../../intoto/index.ts';
import type { ObjectMeta, RunStatusCommon } from '../../tekton/index.ts';
import { runTimes } from '../run-times.ts';

export function runDetails(
  builderId: string,
  meta: ObjectMeta,
  status: RunStatusCommon | undefined,
  byproducts: ResourceDescriptor[],
): Record<string, unknown> {
  const times = runTimes(status);
  return {
    builder: { id: builderId },
    metadata: {
      ...(meta.uid ? { invocationId: meta.uid } : {}),
      ...(times.startedOn ? { startedOn: times.startedOn } : {}),
      ...(times.finishedOn ? { finishedOn: times.finishedOn } : {}),
    },
    ...(byproducts.length > 0 ? { byproducts } : {}),
  };
}
