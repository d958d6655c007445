import { BoundedCache } from '../../cache/index.ts';

/**
 * `WWW-Authenticate` parsing and Bearer token caching for the Docker registry token flow.
 * https://distribution.github.io/distribution/spec/auth/token/
 */
export type Challenge =
  | { scheme: 'basic' }
  | { scheme: 'bearer'; realm: string; service?: string; scope?: string };

/** Longer headers are refused unread: real challenges are a few hundred bytes. */
export const MAX_CHALLENGE_LENGTH = 8 * 1024;

/** Character classes by char code: RFC 7230 whitespace, token characters, a bare value's characters. */
const SPACE = (c: number) => c === 0x20 || c === 0x09;
const TOKEN = (c: number) =>
  (c >= 0x30 && c <= 0x39) ||
  (c >= 0x41 && c <= 0x5a) ||
  (c >= 0x61 && c <= 0x7a) ||
  c === 0x5f ||
  c === 0x2e ||
  c === 0x2d;
const BARE = (c: number) => c !== 0x2c && c > 0x20 && c !== 0x7f;

/** A cursor over the header; every method advances it, so a parse is one linear pass. */
class Scanner {
  i = 0;
  readonly s: string;
  constructor(s: string) {
    this.s = s;
  }
  get done(): boolean {
    return this.i >= this.s.length;
  }
  peek(): string {
    return this.s[this.i] ?? '';
  }
  skip(accept: (c: number) => boolean): string {
    const from = this.i;
    while (this.i < this.s.length && accept(this.s.charCodeAt(this.i))) this.i++;
    return this.s.slice(from, this.i);
  }
  /** a quoted-string with backslash escapes; undefined when unterminated */
  quoted(): string | undefined {
    const parts: string[] = [];
    let from = ++this.i;
    for (; this.i < this.s.length; this.i++) {
      const c = this.s[this.i];
      if (c === '"') {
        parts.push(this.s.slice(from, this.i++));
        return parts.join('');
      }
      if (c === '\\') {
        parts.push(this.s.slice(from, this.i));
        from = ++this.i;
      }
    }
    return undefined;
  }
}

/**
 * Parses one challenge (RFC 7235 auth-params); undefined for a scheme we do not speak, or a header
 * that is too long or malformed (then the 401 stands). One pass over the header: a hostile registry
 * cannot block the event loop with a long one (the regex this replaces was quadratic).
 */
export function parseChallenge(header: string | null): Challenge | undefined {
  if (!header || header.length > MAX_CHALLENGE_LENGTH) return undefined;
  const sc = new Scanner(header);
  sc.skip(SPACE);
  const scheme = sc.skip(TOKEN).toLowerCase();
  if (scheme === 'basic') return { scheme: 'basic' };
  if (scheme !== 'bearer') return undefined;
  const params = new Map<string, string>();
  while (!sc.done) {
    sc.skip(SPACE);
    if (sc.peek() === ',') {
      sc.i++;
      continue;
    }
    const name = sc.skip(TOKEN).toLowerCase();
    sc.skip(SPACE);
    if (!name) return undefined;
    if (sc.peek() !== '=') break; // the next challenge of a joined header (`…, Basic realm="x"`)
    sc.i++;
    sc.skip(SPACE);
    const value = sc.peek() === '"' ? sc.quoted() : sc.skip(BARE);
    if (value === undefined) return undefined;
    if (!params.has(name)) params.set(name, value);
  }
  const realm = params.get('realm');
  if (!realm) return undefined;
  const service = params.get('service');
  const scope = params.get('scope');
  return { scheme: 'bearer', realm, ...(service ? { service } : {}), ...(scope ? { scope } : {}) };
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
