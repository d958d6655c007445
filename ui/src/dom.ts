/**
 * Builds DOM nodes from data. Text always goes in as text nodes (never innerHTML): everything the
 * API returns comes from tenants' runs and must not become markup.
 */
type Child = Node | string | number | false | null | undefined | Child[];
type Attrs = Record<string, string | boolean | undefined | ((e: Event) => void)>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(name.slice(2).toLowerCase(), value);
    else el.setAttribute(name, value === true ? '' : value);
  }
  append(el, children);
  return el;
}

function append(el: Node, children: Child[]): void {
  for (const c of children) {
    if (c === false || c === null || c === undefined) continue;
    if (Array.isArray(c)) append(el, c);
    else
      el.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

/** A link inside the page: navigates without a reload (main.ts handles `data-nav`). */
export const navLink = (href: string, ...children: Child[]) =>
  h('a', { href, 'data-nav': true }, ...children);

/** A date in the reader's own time zone, with the zone named. */
export function localTime(iso: string): HTMLTimeElement {
  const d = new Date(iso);
  const text = Number.isNaN(d.getTime())
    ? iso
    : d.toLocaleString(undefined, {
        year: 'numeric',
        month: 'short',
        day: 'numeric',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
        timeZoneName: 'short',
      });
  return h('time', { datetime: iso }, text);
}

/** A table with a caption and a header row; rows are arrays of cells. */
export function table(caption: string, headers: string[], rows: Child[][]): HTMLElement {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      {},
      h('caption', {}, caption),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          headers.map((x) => h('th', { scope: 'col' }, x)),
        ),
      ),
      // data-label: narrow windows show each row as a card, labelling each cell (app.css)
      h(
        'tbody',
        {},
        rows.map((r) =>
          h(
            'tr',
            {},
            r.map((c, i) => h('td', { 'data-label': headers[i] }, c)),
          ),
        ),
      ),
    ),
  );
}

/** A state the page can be in instead of a result: empty, refused, not found, API down. */
export function notice(kind: 'info' | 'error' | 'ok', title: string, ...body: Child[]): HTMLElement {
  return h(
    'section',
    { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' },
    h('h2', {}, title),
    ...body,
  );
}
