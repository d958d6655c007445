import { token } from './api.ts';
import { h } from './dom.ts';
import { attestationView } from './views/attestation-view.ts';
import { errorView } from './views/error-view.ts';
import { digestView, runView } from './views/list-views.ts';
import { searchForm } from './views/search-view.ts';

/**
 * The provenance page: one document under /ui/, its views chosen by the path, so every view has a
 * deep link that survives a reload (the observer answers index.html for every /ui/ path):
 *   /ui/                               search
 *   /ui/digests/<alg:hex>              attestations of an image digest
 *   /ui/runs/<ns>/<taskruns|pipelineruns>/<name>
 *   /ui/attestations/<id>[?digest=…]   one attestation, verified here
 */
const main = document.getElementById('main') as HTMLElement;

async function viewFor(path: string, query: URLSearchParams): Promise<HTMLElement> {
  const p = path
    .replace(/^\/ui\/?/, '')
    .split('/')
    .filter(Boolean)
    .map(decodeURIComponent);
  if (p[0] === 'attestations' && p.length === 2)
    return attestationView(p[1], query.get('digest') ?? undefined);
  if (p[0] === 'digests' && p.length === 2) return digestView(p[1]);
  if (p[0] === 'runs' && p.length === 4) return runView(p[1], p[2], p[3]);
  return h(
    'div',
    {},
    h('h1', { tabindex: '-1' }, 'Where did this image come from?'),
    h(
      'p',
      {},
      'Search by image digest or reference, or by run. Signatures are checked in your browser against the observer’s published keys.',
    ),
  );
}

async function render(): Promise<void> {
  const { pathname, search } = window.location;
  main.setAttribute('aria-busy', 'true');
  main.replaceChildren(h('p', { class: 'loading' }, 'Loading…'));
  let view: HTMLElement;
  try {
    view = await viewFor(pathname, new URLSearchParams(search));
  } catch (err) {
    view = errorView(err, 'this page');
  }
  main.replaceChildren(view);
  main.setAttribute('aria-busy', 'false');
  const heading = main.querySelector('h1');
  heading?.focus();
  document.title = `${heading?.textContent ?? 'Provenance'} · provenance-observer`;
}

export function navigate(href: string): void {
  window.history.pushState(null, '', href);
  void render();
}

function tokenForm(): HTMLElement {
  const input = h('input', {
    id: 'token',
    type: 'password',
    autocomplete: 'off',
    placeholder: token.get() ? 'token set for this tab' : 'paste a bearer token',
  });
  const state = h(
    'span',
    { class: 'help', id: 'token-state', 'aria-live': 'polite' },
    token.get() ? 'Token set (this tab only).' : 'No token: the page asks without one.',
  );
  const form = h(
    'form',
    { class: 'token', 'aria-label': 'API token' },
    h('label', { for: 'token' }, 'Token'),
    input,
    h('button', { type: 'submit' }, 'Use token'),
    h(
      'button',
      {
        type: 'button',
        id: 'forget',
        onclick: () => {
          token.clear();
          state.textContent = 'Token forgotten.';
          void render();
        },
      },
      'Forget',
    ),
    state,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (input.value.trim()) token.set(input.value);
    input.value = '';
    state.textContent = 'Token set (this tab only).';
    void render();
  });
  return form;
}

function start(): void {
  const header = document.getElementById('header') as HTMLElement;
  header.append(tokenForm(), searchForm(navigate));
  document.addEventListener('click', (e) => {
    const a = (e.target as Element).closest('a[data-nav]') as HTMLAnchorElement | null;
    if (!a || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    navigate(a.getAttribute('href') ?? '/ui/');
  });
  window.addEventListener('popstate', () => void render());
  void render();
}

start();
