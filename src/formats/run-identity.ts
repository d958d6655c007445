/**
 * Who built it (our addition, not in Chains): the run's namespace and the ServiceAccount it ran
 * as, so a policy can tie a subject's repository to the tenant that built it. Written as
 * `namespace` and `serviceAccountName` in SLSA v1.0 `buildDefinition.internalParameters` and v0.2
 * `predicate.invocation.environment`. The ServiceAccount is TaskRun `spec.serviceAccountName`,
 * PipelineRun `spec.taskRunTemplate.serviceAccountName`, else `default` (Tekton's default
 * default-service-account); a namespace-less document (test data) reads as `default`, as the
 * apiserver would place it.
 *
 * And what ran: the execution-check outcome (policy/execution-check.ts) under the field name
 * `executionCheck`: a v1.0 `runDetails.byproducts` entry `{name: "executionCheck", mediaType:
 * "application/json", content: base64(canonical JSON of the outcome), annotations: {result}}`, and
 * v0.2 `predicate.buildConfig.executionCheck` (the outcome object).
 */

import type { ResourceDescriptor } from '../intoto/index.ts';
import type { ExecutionCheckOutcome } from '../policy/index.ts';
import type { PipelineRun, TaskRun } from '../tekton/index.ts';
import { canonicalJson } from './canonical-json.ts';

export const EXECUTION_CHECK_FIELD = 'executionCheck';

export interface RunIdentity {
  namespace: string;
  serviceAccountName: string;
}

export function runIdentity(run: TaskRun | PipelineRun): RunIdentity {
  const spec = run.spec as { serviceAccountName?: string; taskRunTemplate?: { serviceAccountName?: string } };
  return {
    namespace: run.metadata.namespace || 'default',
    serviceAccountName: spec?.serviceAccountName || spec?.taskRunTemplate?.serviceAccountName || 'default',
  };
}

/** The v1.0 byproduct carrying the outcome; none when the check is off. */
export function executionCheckByproducts(outcome: ExecutionCheckOutcome | undefined): ResourceDescriptor[] {
  if (!outcome) return [];
  return [
    {
      name: EXECUTION_CHECK_FIELD,
      mediaType: 'application/json',
      content: Buffer.from(canonicalJson(outcome), 'utf8').toString('base64'),
      annotations: { result: outcome.result },
    },
  ];
}
