import { ApiError } from '../api.ts';
import { h, notice } from '../dom.ts';

/** What the reader sees when a lookup did not answer 200: plain words, and what to do next. */
export function errorView(err: unknown, what: string): HTMLElement {
  if (!(err instanceof ApiError))
    return notice('error', `Something went wrong showing ${what}`, h('p', {}, String(err)));
  switch (err.status) {
    case 0:
      return notice(
        'error',
        'The observer API is down',
        h('p', {}, `${err.message}. Try again in a moment.`),
      );
    case 401:
      return notice(
        'error',
        'Sign in to see provenance',
        h('p', {}, 'Paste a token made for this observer in the token field above:'),
        h('pre', {}, 'kubectl create token <service-account> -n <namespace> --audience provenance-observer'),
        h('p', { class: 'detail' }, `The observer said: ${err.message}`),
      );
    case 403:
      return notice('error', 'Not allowed', h('p', {}, `You may not see ${what}. ${err.message}.`));
    case 404:
      return notice(
        'info',
        'Nothing found',
        h('p', {}, `The observer has no record of ${what}, or you may not see it.`),
      );
    case 400:
      return notice('error', 'That does not look right', h('p', {}, err.message));
    default:
      return notice('error', `The observer answered ${err.status}`, h('p', {}, err.message));
  }
}
