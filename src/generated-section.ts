/**
 * `doc` with the text between the `begin` and `end` marker lines replaced by `body`: the part of a
 * docs page a script writes from the code (npm run docs:config, docs:metrics). Throws when a marker
 * is missing.
 */
export function withGeneratedSection(doc: string, begin: string, end: string, body: string): string {
  const from = doc.indexOf(begin);
  const to = doc.indexOf(end);
  if (from < 0 || to < from) throw new Error(`missing ${begin} … ${end}`);
  return `${doc.slice(0, from + begin.length)}\n${body}\n${doc.slice(to)}`;
}
