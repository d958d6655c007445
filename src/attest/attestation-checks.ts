/**
 * The checks between "what the run claims" and signing (docs/security.md):
 * - execution: a TaskRun's reported step/sidecar images against its Pod (policy/execution-check.ts),
 *   per `attestation.execution-check` (off | record | enforce);
 * - subjects: every subject, of every kind, through the one subject gate (policy/subject-gate.ts):
 *   parsed by the one grammar, allowed by `attestation.subject-policy`, and (OCI, with
 *   `attestation.require-subject-exists`) found in its registry. Only what passes comes back as a
 *   CheckedSubject, the only subject the signer accepts; the rest comes back as skipped inputs.
 * A transient failure (Pod read, registry HEAD) throws a retryable ObserverError: the attempt is
 * retried with backoff; no subject is dropped and no run is refused because something blinked.
 */
import { ObserverError } from '../errors.ts';
import type { PodReader } from '../kube/index.ts';
import {
  type ClaimedSubject,
  checkExecution,
  type ExecutionCheckMode,
  type ExecutionCheckOutcome,
  type GateResult,
  type PodView,
  type SubjectExistenceCheck,
  SubjectGate,
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
  namespaceLabels?: (namespace: string) => Promise<Readonly<Record<string, string>>>;
}

export class AttestationChecks {
  readonly #o: AttestationChecksOptions;

  readonly #gate: SubjectGate;

  constructor(options: AttestationChecksOptions) {
    this.#o = options;
    this.#gate = new SubjectGate(options);
  }

  /** The execution-check outcome of a TaskRun (undefined when off, or for a PipelineRun). */
  async execution(run: RunRef, object: TektonRun): Promise<ExecutionCheckOutcome | undefined> {
    if (this.#o.executionCheck === 'off' || object.kind !== 'TaskRun') return undefined;
    const podName = (object as TaskRun).status?.podName;
    const pod = podName && this.#o.pods ? await this.#o.pods.get(run.namespace, podName) : undefined;
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

  /**
   * Every claimed subject through the subject gate (policy/subject-gate.ts): parsed by the one
   * grammar, allowed by the policy, found in its registry. Without a gate configured (the `generate`
   * CLI, unit tests) the unset policy and no existence check stand in: subjects are still parsed.
   */
  subjects(run: RunRef, claimed: readonly ClaimedSubject[]): Promise<GateResult> {
    return this.#gate.check(run, claimed);
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
