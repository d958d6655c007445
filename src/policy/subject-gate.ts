/**
 * The one door between what a run claims and the signer: every subject, from every hint source
 * and every statement, is parsed here by the one grammar (model/subject-ref.ts), then allowed by the
 * subject policy (OCI repositories by `repositories` patterns, other subjects by `uris` patterns)
 * and, for OCI subjects when an existence check is given, found in its registry. What passes comes
 * out as a CheckedSubject, the only subject type signing and storage accept; what does not comes
 * out as a skip with its reason code (`image_ref_invalid`, `uri_invalid`, `digest_invalid`,
 * `digest_algorithm_unsupported`, `repository_not_allowed`, `uri_not_allowed`,
 * `subject_not_found`, `subject_unreadable`). Subjects that name the same canonical subject are
 * checked once.
 */
import {
  type AttemptContext,
  parseImageSubject,
  parseSubject,
  type SubjectRef,
  type SubjectRefCode,
} from '../model/index.ts';
import type { RunRef } from '../tekton/index.ts';
import { type CheckedImage, type CheckedSubject, checkedSubject } from './checked-subject.ts';
import type { SubjectExistenceCheck } from './subject-existence.ts';
import type { SubjectPolicy } from './subject-policy.ts';

/** A subject as a run or a statement wrote it, not yet parsed. */
export interface ClaimedSubject {
  /** where it was read, e.g. `TaskRun/build-1 subject` */
  source: string;
  name: string;
  /** `<alg>:<hex>` as claimed */
  digest: string;
  /** named by an image hint: always an OCI reference (Docker Hub short names allowed) */
  image?: boolean;
}

export type GateSkipCode =
  | SubjectRefCode
  | 'repository_not_allowed'
  | 'uri_not_allowed'
  | 'subject_not_found'
  | 'subject_unreadable';

export interface GateSkip {
  source: string;
  code: GateSkipCode;
  reason: string;
}

export interface GateResult {
  /** every subject that passed, once per canonical subject, in claim order */
  checked: CheckedSubject[];
  skipped: GateSkip[];
  /** per claimed subject (same order as the claims): its CheckedSubject, or undefined when skipped */
  verdicts: (CheckedSubject | undefined)[];
}

export interface SubjectGateOptions {
  policy: SubjectPolicy;
  /** undefined = `attestation.require-subject-exists: false` */
  existence?: Pick<SubjectExistenceCheck, 'check'>;
  /** a namespace's labels (asked only when the policy selects namespaces by label) */
  namespaceLabels?: (
    namespace: string,
    context?: AttemptContext,
  ) => Promise<Readonly<Record<string, string>>>;
}

export class SubjectGate {
  readonly #o: SubjectGateOptions;

  constructor(options: SubjectGateOptions) {
    this.#o = options;
  }

  get policy(): SubjectPolicy {
    return this.#o.policy;
  }

  /** Parses, allows and finds each claimed subject; one registry request per new OCI subject. */
  async check(
    run: RunRef,
    claimed: readonly ClaimedSubject[],
    context?: AttemptContext,
  ): Promise<GateResult> {
    const out: GateResult = { checked: [], skipped: [], verdicts: [] };
    const { policy, namespaceLabels } = this.#o;
    const labels = policy.needsLabels && namespaceLabels ? await namespaceLabels(run.namespace, context) : {};
    const seen = new Map<string, CheckedSubject | undefined>();
    for (const c of claimed) {
      const parsed = c.image ? parseImageSubject(c.name, c.digest) : parseSubject(c.name, c.digest);
      if (!parsed.ok) {
        out.skipped.push({
          source: c.source,
          code: parsed.code,
          reason: `${parsed.reason}: ${quote(c)}`,
        });
        out.verdicts.push(undefined);
        continue;
      }
      const key = `${nameOf(parsed)}@${parsed.digest}`;
      if (!seen.has(key)) {
        const judged = await this.#judge(run, labels, parsed, context);
        const verdict = 'code' in judged ? undefined : checkedSubject(parsed, judged.rule);
        if ('code' in judged) out.skipped.push({ source: `${c.source} ${key}`, ...judged });
        else out.checked.push(verdict as CheckedSubject);
        seen.set(key, verdict);
      }
      out.verdicts.push(seen.get(key));
    }
    return out;
  }

  async #judge(
    run: RunRef,
    labels: Readonly<Record<string, string>>,
    s: SubjectRef,
    context?: AttemptContext,
  ): Promise<Omit<GateSkip, 'source'> | { rule: string }> {
    const { policy, existence } = this.#o;
    const decision =
      s.kind === 'oci'
        ? policy.allowed(run.namespace, labels, s.repository)
        : policy.allowedUri(run.namespace, labels, s.uri);
    if (!decision.allowed)
      return {
        code: s.kind === 'oci' ? 'repository_not_allowed' : 'uri_not_allowed',
        reason: `namespace ${run.namespace} may not claim ${nameOf(s)} (attestation.subject-policy: ${decision.rule}); not signed, not pushed`,
      };
    if (s.kind !== 'oci' || !existence) return { rule: decision.rule };
    const found = await existence.check(run, s, context);
    if (found.result === 'exists') return { rule: decision.rule };
    return {
      code: found.result === 'not_found' ? 'subject_not_found' : 'subject_unreadable',
      reason: `${found.detail}; not signed, not pushed`,
    };
  }
}

function nameOf(s: SubjectRef): string {
  return s.kind === 'oci' ? s.repository : s.uri;
}

function quote(c: ClaimedSubject): string {
  const text = JSON.stringify(`${c.name}@${c.digest}`);
  return text.length <= 160 ? text : `${text.slice(0, 160)}…"`;
}

/**
 * The images of a statement Tekton Chains signed, for the index record of an adopted run: nothing
 * is signed or pushed for them (the signature is Chains'), so they pass the one grammar only and
 * carry the rule `adopted:chains`. Names that are not OCI references are left out.
 */
export function adoptedImages(subjects: readonly { name: string; digest: string }[]): CheckedImage[] {
  return subjects.flatMap((s) => {
    const parsed = parseImageSubject(s.name, s.digest);
    return parsed.ok && parsed.kind === 'oci'
      ? [checkedSubject(parsed, 'adopted:chains') as CheckedImage]
      : [];
  });
}
