/**
 * The checks between "what the run claims" and signing (docs/security.md):
 * - execution: a TaskRun's reported step/sidecar images against its Pod (policy/execution-check.ts),
 *   per `attestation.execution-check` (off | record | enforce); under enforce anything but `match`
 *   is refused: a mismatch, a Pod not the run's, and no evidence at all (no podName, no Pod);
 * - subjects: every subject, of every kind, through the one subject gate (policy/subject-gate.ts):
 *   parsed by the one grammar, allowed by `attestation.subject-policy`, and (OCI, with
 *   `attestation.require-subject-exists`) found in its registry. Only what passes comes back as a
 *   CheckedSubject, the only subject the signer accepts; the rest comes back as skipped inputs.
 * A transient failure (Pod read, registry HEAD) throws a retryable ObserverError: the attempt is
 * retried with backoff; no subject is dropped and no run is refused because something blinked.
 */
import { ObserverError } from '../errors.ts';
import type { ChildRun } from '../formats/index.ts';
import type { PodReader } from '../kube/index.ts';
import type { AttemptContext } from '../model/index.ts';
import {
  type ChildExecution,
  type ClaimedSubject,
  checkEvidence,
  type ExecutionCheckMode,
  type ExecutionCheckOutcome,
  type GateResult,
  type PodEvidence,
  type PodView,
  pipelineExecution,
  podEvidence,
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
  /** the Pod evidence captured when the run was first seen finished (index), by run uid */
  evidence?: (uid: string, run: RunRef) => Promise<PodEvidence | undefined>;
  /** a namespace's labels (asked only when the policy selects namespaces by label) */
  namespaceLabels?: (
    namespace: string,
    context?: AttemptContext,
  ) => Promise<Readonly<Record<string, string>>>;
}

export class AttestationChecks {
  readonly #o: AttestationChecksOptions;

  readonly #gate: SubjectGate;

  constructor(options: AttestationChecksOptions) {
    this.#o = options;
    this.#gate = new SubjectGate(options);
  }

  /** The execution-check outcome of a TaskRun (undefined when off, or for a PipelineRun). */
  async execution(
    run: RunRef,
    object: TektonRun,
    context?: AttemptContext,
    children: readonly ChildRun[] = [],
  ): Promise<ExecutionCheckOutcome | undefined> {
    if (this.#o.executionCheck === 'off') return undefined;
    const outcome =
      object.kind === 'TaskRun'
        ? await this.#executionOf(run, object as TaskRun, context)
        : await this.#pipelineExecution(run, children, context);
    if (this.#o.executionCheck === 'enforce' && outcome.result !== 'match')
      throw new ObserverError(
        `execution check of ${describeRun(run)}: ${outcome.result} (${describeOutcome(outcome)}); attestation.execution-check is enforce, not signing`,
        { code: 'input_invalid', retryable: false },
      );
    return outcome;
  }

  /**
   * The run judged against its Pod's evidence: the evidence captured when the run was first seen
   * finished when there is some (a later status edit or a pruned Pod changes nothing), else the Pod
   * named by the run, read now.
   */
  async #executionOf(run: RunRef, object: TaskRun, context?: AttemptContext): Promise<ExecutionCheckOutcome> {
    const captured = await this.#o.evidence?.(run.uid, run);
    if (captured) return checkEvidence(object, captured, 'captured');
    const podName = object.status?.podName ?? '';
    const pod = podName && this.#o.pods ? await this.#o.pods.get(run.namespace, podName, context) : undefined;
    return checkEvidence(object, podEvidence(podName, pod as PodView | undefined, new Date()), 'live');
  }

  /** Each child TaskRun the PipelineRun executed, judged as a TaskRun is (its own evidence). */
  async #pipelineExecution(
    run: RunRef,
    children: readonly ChildRun[],
    context?: AttemptContext,
  ): Promise<ExecutionCheckOutcome> {
    const outcomes: ChildExecution[] = [];
    for (const c of children) {
      if (c.state !== 'found') continue;
      const ref = { ...run, kind: 'TaskRun' as const, name: c.name, uid: c.run.metadata.uid ?? '' };
      const { children: _, ...outcome } = await this.#executionOf(ref, c.run, context);
      const task = c.pipelineTaskName ? { pipelineTaskName: c.pipelineTaskName } : {};
      outcomes.push({ name: c.name, ...task, ...outcome });
    }
    return pipelineExecution(outcomes);
  }

  /**
   * Every claimed subject through the subject gate (policy/subject-gate.ts): parsed by the one
   * grammar, allowed by the policy, found in its registry. Without a gate configured (the `generate`
   * CLI, unit tests) the unset policy and no existence check stand in: subjects are still parsed.
   */
  subjects(run: RunRef, claimed: readonly ClaimedSubject[], context?: AttemptContext): Promise<GateResult> {
    return this.#gate.check(run, claimed, context);
  }
}

/** One line for Events and errors: which containers differ, or why there was nothing to compare. */
export function describeOutcome(o: ExecutionCheckOutcome): string {
  if (o.children)
    return (
      o.children
        .filter((c) => c.result !== 'match')
        .map((c) => `child TaskRun ${c.name}: ${c.result} (${describeOutcome(c)})`)
        .join('; ') || `${o.children.length} child TaskRun(s) match`
    );
  if (o.differences?.length)
    return o.differences
      .map(
        (d) =>
          `${d.container}: reported ${d.reported ?? '(nothing)'}, Pod ${o.podName} ran ${d.ran ?? '(nothing)'}`,
      )
      .join('; ');
  return o.detail ?? `Pod ${o.podName}`;
}
