/** A subject of an in-toto statement (digest: algorithm → hex). */
export interface StatementSubject {
  name?: string;
  uri?: string;
  digest?: Record<string, string>;
}

export interface SubjectMatch {
  /** `alg:hex` */
  digest: string;
  name: string;
  /** whether the signed statement names this digest */
  inStatement: boolean;
}

/** The subjects' digests as `alg:hex`, lower case, with their names. */
export function statementDigests(subjects: readonly StatementSubject[] | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const s of subjects ?? [])
    for (const [alg, value] of Object.entries(s.digest ?? {}))
      out.set(`${alg.toLowerCase()}:${String(value).toLowerCase()}`, s.name ?? s.uri ?? '');
  return out;
}

/**
 * The digest match, computed here: each digest the index record lists (and the digest the reader
 * asked about, when there is one) must be a subject of the signed statement. The index is not
 * signed, so a record listing a digest its statement does not name must not be believed.
 */
export function matchSubjects(
  signed: readonly StatementSubject[] | undefined,
  recorded: readonly { name: string; digest: string }[],
  asked?: string,
): { ok: boolean; items: SubjectMatch[] } {
  const inStatement = statementDigests(signed);
  const wanted = [...recorded];
  if (asked && !wanted.some((r) => r.digest === asked))
    wanted.push({ name: '(the digest you asked for)', digest: asked });
  const items = wanted.map((r) => ({
    digest: r.digest,
    name: r.name,
    inStatement: inStatement.has(r.digest.toLowerCase()),
  }));
  return { ok: items.length > 0 && items.every((i) => i.inStatement), items };
}
