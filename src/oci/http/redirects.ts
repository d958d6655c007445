import { discardBody } from './bounded-body.ts';
import type { RegistryResponse } from './registry-transport.ts';

/** Statuses after which a client may follow `Location` (RFC 9110 §15.4). */
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Hops followed at most; Go's net/http stops after 10, registries use one (a blob to its storage). */
export const MAX_REDIRECTS = 5;

/**
 * Sends `start`, following redirects by hand for GET and HEAD (other methods get the redirect
 * answer itself): each target is resolved against the current URL, never downgrades https to http
 * and goes through `send` again, where the host policy checks it like the first. `refuse` builds
 * the error for a target that is not followed.
 */
export async function followRedirects(
  start: URL,
  method: string,
  send: (url: URL, hop: number) => Promise<RegistryResponse>,
  refuse: (detail: string) => Error,
): Promise<RegistryResponse> {
  let url = start;
  for (let hop = 0; ; hop++) {
    const res = await send(url, hop);
    const location = res.headers.get('location');
    if (!REDIRECTS.has(res.status) || !location || (method !== 'GET' && method !== 'HEAD')) return res;
    await discardBody(res);
    if (hop >= MAX_REDIRECTS) throw refuse(`more than ${MAX_REDIRECTS} redirects`);
    const next = URL.parse(location, url.href);
    if (!next || (next.protocol !== 'https:' && next.protocol !== 'http:'))
      throw refuse('redirect to a target that is not an http(s) URL');
    if (url.protocol === 'https:' && next.protocol !== 'https:') throw refuse('redirect from https to http');
    url = next;
  }
}
