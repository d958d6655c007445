/**
 * The checks between "what the run claims" and signing (docs/security.md):
 * - execution: a TaskRun's reported step/sidecar images against its Pod (policy/execution-check.ts),
 *   per `attestation.execution-check` (off | record | enforce);
 * - subjects: each image subject must be allowed to the run's namespace by
 *   `attestation.subject-policy` (else `repository_not_allowed`) and, with
 *   `attestation.require-subject-exists`, exist in its registry (else `subject_not_found` /
 *   `subject_unreadable`). Rejected subjects are returned as skipped inputs; the caller leaves them
 *   out of the statement and signs and stores nothing for them.
 * A transient failure (Pod read, registry HEAD) throws a retryable ObserverError: the attempt is
 * retried with backoff; no subject is dropped and no run is refused because something blinked.
 */
import { ObserverError } from '../errors.ts';
import type { SkippedInput } from '../formats/index.ts';
import type { PodReader } from '../kube/index.ts';
import type { AttemptContext } from '../model/index.ts';
import type { ImageRef } from '../oci/index.ts';
import {
  checkExecution,
  type ExecutionCheckMode,
  type ExecutionCheckOutcome,
  type PodView,
  type SubjectExistenceCheck,
  type SubjectPolicy,
} from '../policy/index.ts';
import { describeRun, type RunRef, type TaskRun, type TektonRun } from '../tekton/index.ts';

export interface AttestationChecksOptions {
  policy: SubjectPolicy;
  executionCheck: ExecutionCheckMode;
  /** undefined = `attestation.require-subject-exists: false` */
  existence?: Pick<SubjectExistenceCheck, 'check'>;
  pods?: Pick<PodReader, 'get'>;
  /** a namespace's labels (asked only when the policy selects namespaces by label) */
  namespaceLabels?: (
    namespace: string,
    context?: AttemptContext,
  ) => Promise<Readonly<Record<string, string>>>;
}

export interface SubjectGate {
  kept: ImageRef[];
  rejected: ImageRef[];
  skipped: SkippedInput[];
}

export class AttestationChecks {
  readonly #o: AttestationChecksOptions;

  constructor(options: AttestationChecksOptions) {
    this.#o = options;
  }

  /**
   * The execution-check outcome of a TaskRun (undefined when off, or for a PipelineRun). Both
   * checks take the attempt's context last and hand it to the apiserver and registry clients.
   */
  async execution(
    run: RunRef,
    object: TektonRun,
    context?: AttemptContext,
  ): Promise<ExecutionCheckOutcome | undefined> {
    if (this.#o.executionCheck === 'off' || object.kind !== 'TaskRun') return undefined;
    const podName = (object as TaskRun).status?.podName;
    const pod = podName && this.#o.pods ? await this.#o.pods.get(run.namespace, podName, context) : undefined;
    const outcome = checkExecution(object as TaskRun, pod as PodView | undefined);
    if (
      this.#o.executionCheck === 'enforce' &&
      (outcome.result === 'mismatch' || outcome.result === 'not_owned')
    )
      throw new ObserverError(
        `execution check of ${describeRun(run)}: ${outcome.result} (${describeOutcome(outcome)}); attestation.execution-check is enforce, not signing`,
        { code: 'input_invalid', retryable: false },
      );
    return outcome;
  }

  /** Splits image subjects into kept and rejected (policy first, then existence), one request per image. */
  async subjects(run: RunRef, images: readonly ImageRef[], context?: AttemptContext): Promise<SubjectGate> {
    const gate: SubjectGate = { kept: [], rejected: [], skipped: [] };
    const labels =
      this.#o.policy.needsLabels && this.#o.namespaceLabels
        ? await this.#o.namespaceLabels(run.namespace, context)
        : {};
    for (const image of unique(images)) {
      const source = `${run.kind}/${run.name} subject ${image.repository}@${image.digest}`;
      const decision = this.#o.policy.allowed(run.namespace, labels, image.repository);
      if (!decision.allowed) {
        gate.rejected.push(image);
        gate.skipped.push({
          source,
          code: 'repository_not_allowed',
          reason: `namespace ${run.namespace} may not claim ${image.repository} (attestation.subject-policy: ${decision.rule}); not signed, not pushed`,
        });
        continue;
      }
      const found = this.#o.existence
        ? await this.#o.existence.check(run, image, context)
        : { result: 'exists' as const };
      if (found.result === 'exists') gate.kept.push(image);
      else {
        gate.rejected.push(image);
        gate.skipped.push({
          source,
          code: found.result === 'not_found' ? 'subject_not_found' : 'subject_unreadable',
          reason: `${found.detail}; not signed, not pushed`,
        });
      }
    }
    return gate;
  }
}

/** One line for Events and errors: which containers differ, or why there was nothing to compare. */
export function describeOutcome(o: ExecutionCheckOutcome): string {
  if (o.differences?.length)
    return o.differences
      .map(
        (d) =>
          `${d.container}: reported ${d.reported ?? '(nothing)'}, Pod ${o.podName} ran ${d.ran ?? '(nothing)'}`,
      )
      .join('; ');
  return o.detail ?? `Pod ${o.podName}`;
}

function unique(images: readonly ImageRef[]): ImageRef[] {
  const seen = new Set<string>();
  return images.filter((i) => {
    const k = `${i.repository}@${i.digest}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
