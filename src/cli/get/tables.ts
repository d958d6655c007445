/** The lookup API's shapes (docs/api.md "Shapes"), as far as the tables read them. */
export interface AttestationSummary {
  id: string;
  run: { kind: string; namespace: string; name: string; uid?: string };
  predicateType: string;
  subjects: { name: string; digest: string }[];
  keyId: string;
  /** `observer`, or `chains` for an attestation adopted from Tekton Chains */
  origin?: string;
  storage: { backend: string; ok: boolean; locations: string[]; error?: string }[];
  createdAt: string;
}

export interface RunAnswer {
  run: { kind: string; namespace: string; name: string };
  states: { uid: string; status: string; attempts: number; updatedAt: string; lastError?: string }[];
  attestations: AttestationSummary[];
}

export interface KeysAnswer {
  keys: { keyId: string; algorithm: string; publicKeyPem: string; active: boolean; tenant?: string }[];
}

/**
 * kubectl's table layout: upper-case headers, each column as wide as its widest cell plus three
 * spaces, no trailing spaces, `<none>` for an empty cell.
 */
export function table(headers: string[], rows: string[][]): string {
  const cells = rows.map((r) => r.map((c) => (c === '' ? '<none>' : c)));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd((widths[i] ?? 0) + 3)))
      .join('')
      .trimEnd();
  return `${[headers, ...cells].map(line).join('\n')}\n`;
}

export function attestationsTable(items: AttestationSummary[]): string {
  return table(
    ['ID', 'RUN', 'PREDICATE', 'SUBJECTS', 'STORED', 'KEY', 'ORIGIN', 'CREATED'],
    items.map((a) => [
      a.id.slice(0, 12),
      `${a.run.kind}/${a.run.namespace}/${a.run.name}`,
      a.predicateType.replace(/^https:\/\/slsa\.dev\/provenance\//, 'slsa/'),
      String(a.subjects.length),
      a.storage.map((s) => `${s.backend}${s.ok ? '' : '(failed)'}`).join(','),
      a.keyId,
      a.origin ?? 'observer',
      a.createdAt,
    ]),
  );
}

export function runTable(answer: RunAnswer): string {
  const count = (uid: string) => answer.attestations.filter((a) => a.run.uid === uid).length;
  return table(
    ['KIND', 'NAMESPACE', 'NAME', 'UID', 'STATUS', 'ATTEMPTS', 'ATTESTATIONS', 'UPDATED'],
    answer.states.map((s) => [
      answer.run.kind,
      answer.run.namespace,
      answer.run.name,
      s.uid,
      s.status,
      String(s.attempts),
      String(count(s.uid)),
      s.updatedAt,
    ]),
  );
}

/** With tenant keys among them (`get keys -n <ns>`), a TENANT column (`-` for the platform's). */
export function keysTable(answer: KeysAnswer): string {
  if (!answer.keys.some((k) => k.tenant))
    return table(
      ['KEY ID', 'ALGORITHM', 'ACTIVE'],
      answer.keys.map((k) => [k.keyId, k.algorithm, String(k.active)]),
    );
  return table(
    ['KEY ID', 'ALGORITHM', 'ACTIVE', 'TENANT'],
    answer.keys.map((k) => [k.keyId, k.algorithm, String(k.active), k.tenant ?? '-']),
  );
}
