import { type AttestationSummary, apiJson, type RunAnswer } from '../api.ts';
import { h, localTime, navLink, notice, table } from '../dom.ts';
import { errorView } from './error-view.ts';

const plural = (kind: string) => (kind === 'PipelineRun' ? 'pipelineruns' : 'taskruns');
export const runHref = (r: { namespace: string; kind: string; name: string }) =>
  `/ui/runs/${r.namespace}/${plural(r.kind)}/${r.name}`;

function attestationRows(items: AttestationSummary[], digest?: string) {
  return items.map((a) => [
    navLink(`/ui/attestations/${a.id}${digest ? `?digest=${digest}` : ''}`, `${a.id.slice(0, 12)}…`),
    navLink(runHref(a.run), `${a.run.kind} ${a.run.namespace}/${a.run.name}`),
    h(
      'ul',
      { class: 'plain' },
      a.subjects.map((s) => h('li', {}, s.name || '(unnamed)')),
    ),
    a.predicateType.replace('https://slsa.dev/provenance/', 'SLSA '),
    localTime(a.createdAt),
  ]);
}

const HEADERS = ['Attestation', 'Run', 'Subjects', 'Predicate', 'Created'];

/** Attestations of one digest, newest first, a page at a time ("More" follows `next`). */
export async function digestView(digest: string): Promise<HTMLElement> {
  const body = h('div', {});
  const more = async (cursor?: string) => {
    const q = `/attestations?digest=${encodeURIComponent(digest)}&limit=20${cursor ? `&cursor=${cursor}` : ''}`;
    const page = await apiJson<{ items: AttestationSummary[]; next?: string }>(q);
    if (!cursor && page.items.length === 0)
      body.append(
        notice('info', 'No attestations', h('p', {}, 'No attestation you may see names this digest.')),
      );
    else body.append(table(`Attestations of ${digest}`, HEADERS, attestationRows(page.items, digest)));
    if (page.next) {
      const next = page.next;
      const button = h('button', { type: 'button' }, 'More');
      button.addEventListener('click', () => {
        button.remove();
        more(next).catch((err) => body.append(errorView(err, `attestations of ${digest}`)));
      });
      body.append(button);
    }
  };
  try {
    await more();
  } catch (err) {
    return h('div', {}, h('h1', { tabindex: '-1' }, 'Image'), errorView(err, `attestations of ${digest}`));
  }
  return h('div', {}, h('h1', { tabindex: '-1' }, 'Image ', h('code', {}, digest)), body);
}

/** A run: its signing state per uid, and its attestations. */
export async function runView(namespace: string, kindPlural: string, name: string): Promise<HTMLElement> {
  const kind = kindPlural === 'pipelineruns' ? 'PipelineRun' : 'TaskRun';
  const title = h('h1', { tabindex: '-1' }, `${kind} ${namespace}/${name}`);
  let answer: RunAnswer;
  try {
    answer = await apiJson<RunAnswer>(`/runs/${namespace}/${kindPlural}/${name}`);
  } catch (err) {
    return h('div', {}, title, errorView(err, `${kind}s in namespace ${namespace}`));
  }
  const states = answer.states.map((s) => [
    h('span', { class: `status ${s.status}` }, s.status),
    h('code', {}, s.uid),
    String(s.attempts),
    s.lastError ?? '',
    localTime(s.updatedAt),
  ]);
  return h(
    'div',
    {},
    title,
    states.length
      ? table('Signing state', ['Status', 'Run uid', 'Failed attempts', 'Last error', 'Updated'], states)
      : '',
    answer.attestations.length
      ? table('Attestations', HEADERS, attestationRows(answer.attestations))
      : notice(
          'info',
          'No attestation yet',
          h('p', {}, 'The observer has not attested this run (see its state above).'),
        ),
  );
}
