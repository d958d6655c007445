import type { RegistryCredentials } from '../credentials.ts';
import type { Challenge, TokenResponse } from './auth-challenge.ts';
import type { RegistryResponse } from './registry-transport.ts';

export interface TokenRequest {
  challenge: Challenge & { scheme: 'bearer' };
  /** `repository:<name>:<actions>` */
  scope: string;
  credentials?: RegistryCredentials;
  basicHeader?: string;
  /** may the realm be plain http? (an insecure registry's own host, or a listed insecure host) */
  plainHttpAllowed: (realm: URL) => boolean;
  /** sends to the realm (host policy, redirects, breaker apply) */
  send: (realm: URL, init: RequestInit, authorization?: string) => Promise<RegistryResponse>;
  /** the error for a realm that is not allowed */
  refuse: (detail: string) => Error;
}

/**
 * Docker token flow: GET with Basic credentials, or the OAuth2 refresh-token POST for identity
 * tokens (https://distribution.github.io/distribution/spec/auth/token/ and oauth/). The realm is
 * the registry's word, so it must be https, or plain http only where plain http is configured.
 */
export async function requestToken(t: TokenRequest): Promise<RegistryResponse> {
  const realm = URL.parse(t.challenge.realm);
  if (!realm || (realm.protocol !== 'https:' && realm.protocol !== 'http:'))
    throw t.refuse('token realm is not an http(s) URL');
  if (realm.protocol === 'http:' && !t.plainHttpAllowed(realm))
    throw t.refuse('token realm is plain http on a host not configured as insecure');
  const c = t.credentials;
  if (c?.kind === 'identity-token') {
    const form = new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: c.identityToken,
      scope: t.scope,
    });
    form.set('client_id', 'provenance-observer');
    if (t.challenge.service) form.set('service', t.challenge.service);
    return t.send(realm, { method: 'POST', body: form });
  }
  if (t.challenge.service) realm.searchParams.set('service', t.challenge.service);
  realm.searchParams.set('scope', t.scope);
  return t.send(realm, { method: 'GET' }, t.basicHeader);
}

export type { TokenResponse };
