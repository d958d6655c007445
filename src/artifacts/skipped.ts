/**
 * An input the extractors could not use. Invalid type hints never fail the run's other artifacts:
 * they are skipped and reported here.
 */
export interface SkippedInput {
  /** where the value was read, e.g. `TaskRun/build-1 results.IMAGE_DIGEST` */
  source: string;
  /** stable snake_case, used as a metric label and in tests */
  code: SkipCode;
  /** human-readable detail; never contains secrets (hint values are public run results) */
  reason: string;
}

export type SkipCode =
  | 'digest_algorithm_unsupported'
  | 'digest_invalid'
  | 'pair_incomplete'
  | 'not_an_object'
  | 'not_a_string'
  | 'object_field_missing'
  | 'value_too_large'
  | 'image_ref_invalid'
  | 'uri_invalid'
  | 'uri_not_allowed'
  | 'step_image_invalid'
  | 'git_url_missing'
  | 'child_missing'
  | 'child_not_a_taskrun'
  | 'child_unfinished'
  | 'not_owned'
  | 'created_after_completion'
  | 'replaced'
  | 'repository_not_allowed'
  | 'subject_not_found'
  | 'subject_unreadable'
  | 'task_steps_mismatch';

/** What every extractor returns: the usable items, in a deterministic order, and what was skipped. */
export interface Extraction<T> {
  items: T[];
  skipped: SkippedInput[];
}

/**
 * Largest hint value read, in UTF-8 bytes (Tekton's default result size limit with the
 * termination-message extraction method is 4096 bytes for all results of a step together).
 */
export const MAX_HINT_VALUE_BYTES = 4096;
/** `IMAGES` lists many references (one per platform), so it gets a larger limit. */
export const MAX_IMAGES_VALUE_BYTES = 65536;

export function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** Keeps the first of each (source, code, reason): the same bad value read by two builders is one skip. */
export function uniqueSkipped(list: readonly SkippedInput[]): SkippedInput[] {
  const seen = new Set<string>();
  return list.filter((s) => {
    const k = `${s.source}\u0000${s.code}\u0000${s.reason}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
