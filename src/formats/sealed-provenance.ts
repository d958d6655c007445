/**
 * The statement as it is signed: its subjects are exactly the subjects the subject gate let
 * through (policy/subject-gate.ts), in their canonical names, and its payload is computed here from
 * them. SealedProvenance has a private field, so TypeScript accepts no object literal in its place;
 * `SealedProvenance.of` takes only CheckedSubjects, which only the gate makes. The signer's entry
 * points (attest/sign-artifacts.ts) take a SealedProvenance, so a statement whose subjects skipped
 * the gate cannot be signed: whatever subjects the built statement carried are replaced.
 */
import type { Statement } from '../intoto/index.ts';
import { type CheckedImage, type CheckedSubject, subjectName } from '../policy/index.ts';
import { canonicalJsonBytes } from './canonical-json.ts';

export class SealedProvenance {
  readonly #sealed = true;
  readonly statement: Statement;
  /** canonical JSON bytes of `statement`: what gets signed */
  readonly payload: Uint8Array;
  readonly subjects: readonly CheckedSubject[];
  /** the sha256 OCI subjects, in subject order: where `.att` goes */
  readonly images: readonly CheckedImage[];

  private constructor(statement: Statement, subjects: readonly CheckedSubject[]) {
    this.statement = statement;
    this.subjects = subjects;
    this.payload = canonicalJsonBytes(statement);
    this.images = subjects.filter(
      (s): s is CheckedImage => s.kind === 'oci' && s.digest.startsWith('sha256:'),
    );
  }

  /** The built statement with its subjects replaced by `subjects` (deduplicated, in order). */
  static of(built: { statement: Statement }, subjects: readonly CheckedSubject[]): SealedProvenance {
    const unique = subjects.filter(
      (s, i) => subjects.findIndex((o) => subjectName(o) === subjectName(s) && o.digest === s.digest) === i,
    );
    const subject = unique.map((s) => {
      const colon = s.digest.indexOf(':');
      return { name: subjectName(s), digest: { [s.digest.slice(0, colon)]: s.digest.slice(colon + 1) } };
    });
    return new SealedProvenance({ ...built.statement, subject }, unique);
  }

  /** True for a SealedProvenance (the private field cannot be forged). */
  static is(value: unknown): value is SealedProvenance {
    return typeof value === 'object' && value !== null && #sealed in value;
  }
}
