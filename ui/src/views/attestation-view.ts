import { type AttestationSummary, apiJson, apiText } from '../api.ts';
import { h, localTime, navLink } from '../dom.ts';
import { statementFacts } from '../statement-facts.ts';
import type { PublishedKey } from '../verify/public-key.ts';
import { matchSubjects } from '../verify/subject-match.ts';
import { verifyEnvelope } from '../verify/verify-envelope.ts';
import { detailSections, keyRole } from './attestation-details.ts';
import { errorView } from './error-view.ts';
import { runHref } from './list-views.ts';

/**
 * One attestation, checked here: the envelope and the published keys are fetched and the DSSE
 * signature verified with WebCrypto, then the subject digests of the signed statement are matched
 * against the index record (and the digest the reader came from). Only when both hold does the
 * page say "verified"; otherwise it says what failed.
 */
export async function attestationView(id: string, askedDigest?: string): Promise<HTMLElement> {
  const title = h('h1', { tabindex: '-1' }, 'Attestation ', h('code', {}, `${id.slice(0, 12)}…`));
  let summary: AttestationSummary;
  let envelopeText: string;
  let keys: PublishedKey[];
  try {
    [summary, envelopeText, keys] = await Promise.all([
      apiJson<AttestationSummary>(`/attestations/${id}`),
      apiText(`/attestations/${id}/envelope`),
      apiJson<{ keys: PublishedKey[] }>('/keys').then((k) => k.keys),
    ]);
  } catch (err) {
    return h('div', {}, title, errorView(err, `attestation ${id}`));
  }
  const verdict = await verifyEnvelope(envelopeText, keys);
  let statement: unknown;
  try {
    statement = verdict.payload ? JSON.parse(new TextDecoder().decode(verdict.payload)) : undefined;
  } catch {
    statement = undefined;
  }
  const facts = statementFacts(statement);
  const match = matchSubjects(facts.subjects, summary.subjects, askedDigest);
  const problem = !verdict.verified
    ? verdict.reason
    : statement === undefined
      ? 'the signed payload is not a JSON statement'
      : !match.ok
        ? `the signed statement does not name ${match.items
            .filter((i) => !i.inStatement)
            .map((i) => i.digest)
            .join(', ')}`
        : undefined;
  const banner =
    problem === undefined && verdict.verified
      ? h(
          'section',
          { id: 'verdict', class: 'verdict ok', role: 'status', 'data-verified': 'true' },
          h('h2', {}, '✓ Verified in your browser'),
          h(
            'p',
            {},
            'Verified in your browser with key ',
            h('code', {}, verdict.key.keyId),
            ` (${keyRole(verdict.key)}).`,
          ),
          h(
            'p',
            {},
            `Every subject digest of this record is in the signed statement${askedDigest ? ', including the one you asked about' : ''}.`,
          ),
        )
      : h(
          'section',
          { id: 'verdict', class: 'verdict bad', role: 'alert', 'data-verified': 'false' },
          h('h2', {}, '✗ Not verified'),
          h('p', { class: 'reason' }, `Not verified: ${problem}.`),
          h('p', {}, 'Do not rely on what follows: it is shown as the observer recorded it.'),
        );
  // the moment the page knows its answer (bench/ui.ts measures navigation start → this mark)
  performance.mark('provenance:verdict');
  return h(
    'div',
    {},
    title,
    h(
      'p',
      { class: 'meta' },
      navLink(runHref(summary.run), `${summary.run.kind} ${summary.run.namespace}/${summary.run.name}`),
      ' · recorded ',
      localTime(summary.createdAt),
    ),
    banner,
    detailSections({ id, summary, facts, match, verdict, envelopeText, statement, keys }),
  );
}
