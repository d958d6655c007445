/**
 * A subject that passed every check before signing: parsed by the one subject grammar
 * (model/subject-ref.ts), allowed by the subject policy, and (OCI, with
 * `attestation.require-subject-exists`) found in its registry. The brand is a type-only unique
 * symbol that no module exports, and `checkedSubject` is not exported from policy/index.ts: only
 * policy/subject-gate.ts makes one, so the signing and storing code, which accepts nothing else,
 * cannot be handed a subject that skipped the gate (test/unit/attest/checked-subject.test-d.ts).
 */
import type { OciSubjectRef, SubjectRef, UriSubjectRef } from '../model/index.ts';

declare const checked: unique symbol;

interface Checked {
  /** the subject-policy rule that allowed it (`unset` without a policy) */
  readonly rule: string;
  readonly [checked]: true;
}

export type CheckedImage = Readonly<OciSubjectRef> & Checked;
export type CheckedUri = Readonly<UriSubjectRef> & Checked;
export type CheckedSubject = CheckedImage | CheckedUri;

/** Only the gate calls this (not exported from policy/index.ts). */
export function checkedSubject(subject: SubjectRef & { ok?: true }, rule: string): CheckedSubject {
  const { ok: _, ...fields } = subject;
  return Object.freeze({ ...fields, rule }) as unknown as CheckedSubject;
}

/** The subject's name as a statement carries it: the canonical repository, or the URI. */
export function subjectName(s: CheckedSubject): string {
  return s.kind === 'oci' ? s.repository : s.uri;
}
