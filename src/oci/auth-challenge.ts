import { BoundedCache } from '../cache/index.ts';

/**
 * `WWW-Authenticate` parsing and Bearer token caching for the Docker registry token flow.
 * https://distribution.github.io/distribution/spec/auth/token/
 */
export type Challenge =
  | { scheme: 'basic' }
  | { scheme: 'bearer'; realm: string; service?: string; scope?: string };

/** Parses one challenge; undefined for a scheme we do not speak (then the 401 stands). */
export function parseChallenge(header: string | null): Challenge | undefined {
  if (!header) return undefined;
  const m = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (!m) return undefined;
  const scheme = m[1].toLowerCase();
  if (scheme === 'basic') return { scheme: 'basic' };
  if (scheme !== 'bearer') return undefined;
  const params: Record<string, string> = {};
  for (const p of m[2].matchAll(/(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
    params[p[1].toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3];
  }
  if (!params.realm) return undefined;
  return {
    scheme: 'bearer',
    realm: params.realm,
    ...(params.service ? { service: params.service } : {}),
    ...(params.scope ? { scope: params.scope } : {}),
  };
}

/** Token server answer; `token` and `access_token` are synonyms (both are sent by most servers). */
export interface TokenResponse {
  token?: string;
  access_token?: string;
  expires_in?: number;
}

/** Default lifetime when the server omits expires_in (the spec's default is 60 s). */
const DEFAULT_TTL_S = 60;
/** Renew this long before expiry so a token never expires in flight. */
const MARGIN_MS = 10_000;

/** Scopes (repository × actions) whose tokens one client keeps; the least recently used goes first. */
const MAX_SCOPES = 1024;

/** Tokens by scope, each kept until shortly before it expires. */
export class TokenCache {
  readonly #tokens: BoundedCache<string>;

  constructor(options: { now?: () => number } = {}) {
    this.#tokens = new BoundedCache({ maxEntries: MAX_SCOPES, now: options.now });
  }

  get(scope: string): string | undefined {
    return this.#tokens.get(scope);
  }

  /** Stores a token answer; returns the token, or undefined when the answer carries none. */
  put(scope: string, answer: TokenResponse): string | undefined {
    const token = answer.token ?? answer.access_token;
    if (!token) return undefined;
    const ttlMs = (answer.expires_in && answer.expires_in > 0 ? answer.expires_in : DEFAULT_TTL_S) * 1000;
    this.#tokens.set(scope, token, Math.max(ttlMs - MARGIN_MS, ttlMs / 2));
    return token;
  }

  delete(scope: string): void {
    this.#tokens.delete(scope);
  }
}
