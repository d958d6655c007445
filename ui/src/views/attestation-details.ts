import type { AttestationSummary } from '../api.ts';
import { h, table } from '../dom.ts';
import type { StatementFacts } from '../statement-facts.ts';
import type { PublishedKey } from '../verify/public-key.ts';
import type { SubjectMatch } from '../verify/subject-match.ts';
import type { EnvelopeVerdict } from '../verify/verify-envelope.ts';

export interface Details {
  id: string;
  summary: AttestationSummary;
  facts: StatementFacts;
  match: { ok: boolean; items: SubjectMatch[] };
  verdict: EnvelopeVerdict;
  envelopeText: string;
  statement: unknown;
  keys: PublishedKey[];
}

const yes = (ok: boolean, good = 'yes', bad = 'no') =>
  h('span', { class: ok ? 'yes' : 'no' }, ok ? `✓ ${good}` : `✗ ${bad}`);

/** The sections under the verdict: what was built, from what, by whom, stored where, signed how. */
export function detailSections(d: Details): HTMLElement[] {
  const producer = new Map(d.summary.subjects.map((s) => [s.digest, s.producedBy]));
  const pipeline = d.summary.run.kind === 'PipelineRun';
  const subjects = d.match.items.map((s) => [
    s.name || '(unnamed)',
    h('code', {}, s.digest),
    yes(s.inStatement, 'signed', 'not in the signed statement'),
    ...(pipeline ? [producer.get(s.digest) ?? 'the pipeline'] : []),
  ]);
  const check = d.facts.executionCheck;
  return [
    table(
      'Subjects',
      ['Name (repository)', 'Digest', 'Digest match', ...(pipeline ? ['Produced by task'] : [])],
      subjects,
    ),
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, 'Builder'),
      h('dd', {}, d.facts.builderId || '—'),
      h('dt', {}, 'Build type'),
      h('dd', {}, d.facts.buildType || '—'),
      h('dt', {}, 'Predicate'),
      h('dd', {}, d.facts.predicateType || d.summary.predicateType),
      h('dt', {}, 'Source'),
      h(
        'dd',
        {},
        d.facts.sources.length
          ? d.facts.sources.map((s) => h('div', {}, s.url, ' @ ', h('code', {}, s.commit)))
          : '—',
      ),
      h('dt', {}, 'Execution check'),
      h('dd', { id: 'execution-check' }, check ? check.result : 'not recorded (the check was off)'),
    ),
    skippedSection(d.summary),
    d.facts.bundles.length
      ? table(
          'Task and pipeline references',
          ['Name', 'URI', 'Digest'],
          d.facts.bundles.map((b) => [b.name, b.uri, h('code', {}, b.digest)]),
        )
      : '',
    table(
      'Materials',
      ['Name', 'URI', 'Digest'],
      d.facts.materials.map((m) => [m.name || '—', m.uri, h('code', {}, m.digest)]),
    ),
    table(
      'Where it is stored',
      ['Backend', 'Stored', 'Locations'],
      [
        ...d.summary.storage.map((s) => [
          s.backend,
          yes(s.ok, 'yes', s.error ?? 'no'),
          h(
            'ul',
            { class: 'plain' },
            s.locations.map((l) => h('li', {}, h('code', {}, l))),
          ),
        ]),
        ['index', yes(true), h('code', {}, `/api/v1/attestations/${d.id}`)],
      ],
    ),
    signaturesSection(d),
    rawSection(d),
  ].filter((x): x is HTMLElement => x !== '');
}

function skippedSection(s: AttestationSummary): HTMLElement {
  if (!s.skipped) return h('p', { class: 'help' }, 'Skipped inputs: this observer does not report them.');
  if (s.skipped.length === 0)
    return h('p', { id: 'skipped' }, 'Skipped inputs: none — every input was used.');
  return table(
    'Inputs left out of the provenance',
    ['Where', 'Reason code', 'Why'],
    s.skipped.map((k) => [k.source, h('code', { class: 'code' }, k.code), k.reason]),
  );
}

function signaturesSection(d: Details): HTMLElement {
  const rows = d.verdict.signatures.map((s) => [
    h('code', {}, s.keyid || '(none)'),
    yes(s.verifiedBy !== undefined, 'verified', 'not verified'),
    s.verifiedBy ? keyRole(s.verifiedBy) : (s.problem ?? ''),
  ]);
  return table('Signatures', ['Key id', 'Signature', 'Published key'], rows);
}

function rawSection(d: Details): HTMLElement {
  const statementText = d.statement === undefined ? '' : JSON.stringify(d.statement, null, 2);
  const download = (name: string, text: string) =>
    h(
      'a',
      { href: URL.createObjectURL(new Blob([text], { type: 'application/json' })), download: name },
      `Download ${name}`,
    );
  const command = [
    `curl -s --cacert api-ca.pem "$API/api/v1/keys" | jq -r '.keys[] | select(.keyId=="${d.summary.keyId}") | .publicKeyPem' > observer.pub`,
    `curl -s --cacert api-ca.pem -H "Authorization: Bearer $TOKEN" "$API/api/v1/attestations/${d.id}/envelope" > ${d.id.slice(0, 12)}.dsse.json`,
    `provenance-observer verify --key observer.pub --envelope ${d.id.slice(0, 12)}.dsse.json`,
  ].join('\n');
  return h(
    'section',
    { class: 'raw' },
    h('h2', {}, 'Check it yourself'),
    h('pre', { class: 'command', 'aria-label': 'verify command line' }, command),
    h(
      'p',
      {},
      download(`${d.id.slice(0, 12)}.dsse.json`, d.envelopeText),
      ' · ',
      statementText ? download(`${d.id.slice(0, 12)}.statement.json`, statementText) : '',
    ),
    h(
      'details',
      {},
      h('summary', {}, 'Statement (decoded payload)'),
      h('pre', {}, statementText || '(not JSON)'),
    ),
    h('details', {}, h('summary', {}, 'Envelope, as stored'), h('pre', {}, d.envelopeText)),
  );
}

export const keyRole = (k: PublishedKey) =>
  `published platform key, ${k.algorithm}, ${k.active ? 'active' : 'retired'}`;
