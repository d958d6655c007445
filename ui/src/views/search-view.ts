import { h } from '../dom.ts';

const DIGEST = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;
const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/**
 * Where a search goes: a digest (or a reference carrying one, `repo@sha256:…`) to its attestations;
 * a run (namespace/name, optionally namespace/kind/name) to the run. Undefined with a reason when
 * it is neither: a tag alone names no fixed image.
 */
export function searchTarget(query: string, kind: string): { href: string } | { problem: string } {
  const q = query.trim();
  const at = q.lastIndexOf('@');
  const digest = (at >= 0 ? q.slice(at + 1) : q).toLowerCase();
  if (DIGEST.test(digest)) return { href: `/ui/digests/${digest}` };
  const parts = q.split('/');
  if (parts.length === 2 && parts.every((p) => NAME.test(p)))
    return { href: `/ui/runs/${parts[0]}/${kind}/${parts[1]}` };
  if (
    parts.length === 3 &&
    /^(taskruns|pipelineruns)$/.test(parts[1]) &&
    NAME.test(parts[0]) &&
    NAME.test(parts[2])
  )
    return { href: `/ui/runs/${q}` };
  if (q.includes(':') && !q.includes('@'))
    return { problem: 'A tag can point at different images over time: give the digest (repo@sha256:…).' };
  return {
    problem:
      'Give an image digest (sha256:…), a reference with a digest (repo@sha256:…), or a run (namespace/name).',
  };
}

/** The search form: one field, a run-kind choice, an error line. */
export function searchForm(navigate: (href: string) => void, initial = ''): HTMLElement {
  const input = h('input', {
    id: 'q',
    name: 'q',
    type: 'search',
    value: initial,
    autocomplete: 'off',
    spellcheck: 'false',
    placeholder: 'sha256:…, registry/app@sha256:…, or namespace/run-name',
    'aria-describedby': 'q-help q-problem',
  });
  const kind = h(
    'select',
    { id: 'kind', name: 'kind' },
    h('option', { value: 'taskruns' }, 'TaskRun'),
    h('option', { value: 'pipelineruns' }, 'PipelineRun'),
  );
  const problem = h('p', { id: 'q-problem', class: 'problem', 'aria-live': 'polite' });
  const form = h(
    'form',
    { class: 'search', role: 'search' },
    h('label', { for: 'q' }, 'Image digest, reference or run'),
    h(
      'div',
      { class: 'row' },
      input,
      h('label', { for: 'kind', class: 'inline' }, 'run kind'),
      kind,
      h('button', { type: 'submit' }, 'Search'),
    ),
    h(
      'p',
      { id: 'q-help', class: 'help' },
      'Runs: namespace/name (the kind chosen beside) or namespace/taskruns/name.',
    ),
    problem,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const target = searchTarget(input.value, kind.value);
    if ('href' in target) navigate(target.href);
    else problem.textContent = target.problem;
  });
  return form;
}
