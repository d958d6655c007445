import { Agent, request } from 'undici';
import { ObserverError } from '../../errors.ts';

export interface LookupClientOptions {
  /** the lookup API, e.g. https://provenance-observer.provenance-observer.svc:8443 */
  server: string;
  /** PEM to trust for the API's certificate; default the system's CAs */
  ca?: string;
  /** the bearer token (audience-bound, see api-token.ts); absent for /api/v1/keys */
  token?: string;
  /** per request; default 30 s */
  timeoutMs?: number;
}

/**
 * GETs from the lookup API (docs/api.md) over TLS. A status outside 2xx is an ObserverError
 * carrying the API's own safe message (`{statusCode, error, message}`) and the status, so the CLI
 * prints what the server said ("403 Forbidden: …"). The token never appears in a message.
 */
export class LookupClient {
  readonly #o: LookupClientOptions;
  readonly #agent: Agent;

  constructor(options: LookupClientOptions) {
    this.#o = options;
    this.#agent = new Agent({ connect: options.ca ? { ca: options.ca } : {} });
  }

  async get<T>(path: string): Promise<T> {
    const url = new URL(path, this.#o.server);
    const timeout = this.#o.timeoutMs ?? 30_000;
    let res: Awaited<ReturnType<typeof request>>;
    try {
      res = await request(url, {
        dispatcher: this.#agent,
        headers: this.#o.token ? { authorization: `Bearer ${this.#o.token}` } : {},
        headersTimeout: timeout,
        bodyTimeout: timeout,
      });
    } catch (err) {
      throw new ObserverError(`GET ${url.pathname}: ${(err as Error).message}`, {
        code: 'index',
        reason: 'api_unreachable',
        retryable: true,
        cause: err,
      });
    }
    const text = await res.body.text();
    if (res.statusCode >= 200 && res.statusCode < 300) return JSON.parse(text) as T;
    throw new ObserverError(`GET ${url.pathname}: ${res.statusCode} ${apiMessage(text)}`, {
      code: res.statusCode === 404 ? 'not_found' : 'input_invalid',
      retryable: res.statusCode >= 500,
      reason: `http_${res.statusCode}`,
    });
  }

  close(): Promise<void> {
    return this.#agent.close();
  }
}

/** The API's error body says `error: message`; anything else is summarised, not echoed. */
function apiMessage(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: unknown; message?: unknown };
    if (typeof body.error === 'string' && typeof body.message === 'string')
      return `${body.error}: ${body.message}`.slice(0, 500);
  } catch {
    // not the API's JSON: a proxy or another server answered
  }
  return `(${text.length} bytes, not the lookup API's error format)`;
}
