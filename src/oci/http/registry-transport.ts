import type { Readable } from 'node:stream';
import { Agent, request } from 'undici';
import type { Lane } from '../../model/index.ts';
import { type HostPolicy, HostRefused } from './host-policy.ts';

/**
 * What registry calls read of an answer. A fetch Response is one (tests inject `fetch` and fakes);
 * the transport below builds a lighter one: a WHATWG Headers and Response per request cost more
 * CPU than the request itself (measured: 0.37 vs 0.16 ms per request on loopback).
 */
export interface RegistryResponse {
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  readonly body: ReadableStream<Uint8Array> | null;
  /**
   * Set on a 5xx answer that opened the host's circuit, or was its failed probe: the circuit is open
   * until then. The error made from it carries it (`notBefore`), so the attempt is deferred, not
   * counted, exactly as for a host that does not answer at all.
   */
  readonly hostDownUntil?: number;
}

/**
 * The fetch shape RegistryClient speaks; `typeof fetch` fits it (tests inject fakes). `lane`: the
 * lane of the attempt the request is part of (HostSlots serves live first); fetch ignores it.
 */
export type RegistryFetch = (url: URL, init: RegistryInit) => Promise<RegistryResponse>;
export type RegistryInit = RequestInit & { lane?: Lane };

export interface RegistryTransportOptions {
  /** where connections may go; default: anywhere (the CLI's `verify`, tests) */
  policy?: HostPolicy;
  /** TCP+TLS connect timeout; default 10 s */
  connectTimeoutMs?: number;
}

const NULL_BODY = new Set([101, 204, 205, 304]);

/**
 * HTTP for registry calls over undici's Dispatcher API instead of fetch, because fetch decodes
 * `Content-Encoding` whatever was asked for (undici lib/web/fetch/index.js): here bodies reach the
 * caller exactly as sent, redirects are never followed (the client follows them by hand), and with
 * a policy every connection goes only to a checked address (IP literals checked here, names in the
 * Agent's `connect.lookup`). Answers are returned as fetch Responses over the unread stream.
 */
export function registryTransport(options: RegistryTransportOptions = {}): RegistryFetch {
  const { policy } = options;
  const dispatcher = new Agent({
    allowH2: false,
    // sockets per origin: a registry that holds requests open cannot make us open more
    connections: 32,
    connect: {
      timeout: options.connectTimeoutMs ?? 10_000,
      ...(policy ? { lookup: policy.lookup } : {}),
    },
  });
  return async (url, init) => {
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new HostRefused(url.host, 'not http(s)');
    policy?.checkHost(url.hostname);
    const headers = plainHeaders(init.headers);
    let body = init.body as string | Uint8Array | undefined | null;
    if (init.body instanceof URLSearchParams) {
      body = init.body.toString();
      headers['content-type'] ??= 'application/x-www-form-urlencoded;charset=UTF-8';
    }
    const method = init.method ?? 'GET';
    const res = await request(url, {
      method: method as 'GET',
      headers,
      body: body ?? null,
      signal: init.signal ?? undefined,
      dispatcher,
      // undici closes the connection after every HEAD (undici#258: servers that send a body with
      // their HEAD answer), which cost a new TCP (or TLS) connection per existence check. Pools
      // are per origin, so such a server can only confuse its own answers; keep the connection.
      ...(method === 'HEAD' ? { reset: false } : {}),
    });
    const answer = { status: res.statusCode, headers: new AnswerHeaders(res.headers) };
    // A destroyed body emits 'error' (undici RequestAbortedError): unheard, it would end the process.
    res.body.on('error', () => undefined);
    if (method === 'HEAD' || NULL_BODY.has(res.statusCode)) {
      // read to its (empty) end, not destroyed: a destroyed body aborts the request and its socket
      res.body.dump().catch(() => undefined);
      return { ...answer, body: null };
    }
    return { ...answer, body: pulled(res.body) };
  };
}

/**
 * Request headers as a plain object with lower-case names, as undici takes them (a Headers object
 * per request costs); a plain object is copied without one.
 */
export function plainHeaders(init: RequestInit['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  if (init === undefined) return out;
  if (init instanceof Headers || Array.isArray(init))
    new Headers(init).forEach((v, k) => {
      out[k] = v;
    });
  else for (const [k, v] of Object.entries(init as Record<string, string>)) out[k.toLowerCase()] = v;
  return out;
}

/** `get` over undici's answer headers (names lower-case; repeated ones joined as fetch joins them). */
class AnswerHeaders {
  readonly #raw: Record<string, string | string[] | undefined>;

  constructor(raw: Record<string, string | string[] | undefined>) {
    this.#raw = raw;
  }

  get(name: string): string | null {
    const v = this.#raw[name.toLowerCase()];
    if (v === undefined) return null;
    return Array.isArray(v) ? v.join(', ') : v;
  }
}

/**
 * A web stream that reads the socket only when its reader asks (no read-ahead), and destroys it
 * when cancelled. (Readable.toWeb keeps pushing into a cancelled controller and throws.)
 */
function pulled(body: Readable): ReadableStream<Uint8Array> {
  const chunks = body[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const { value, done } = await chunks.next();
        if (done) controller.close();
        else controller.enqueue(new Uint8Array(value as Buffer));
      },
      cancel() {
        body.destroy();
      },
    },
    { highWaterMark: 0 },
  );
}
