import { Agent, type Dispatcher, request } from 'undici';
import type { KubeAccess } from '../../config/index.ts';
import { type AttemptContext, NO_ATTEMPT } from '../../model/index.ts';
import type { TokenBucket } from './token-bucket.ts';

export type KubeMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

export interface KubeRequest {
  query?: Record<string, string | number | boolean | undefined>;
  /** sent as is (the caller serializes) */
  body?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** the attempt the request is part of: its lane orders the rate limit's waiters; default NO_ATTEMPT */
  context?: AttemptContext;
  /** undici's body timeout; default undici's (300 s); 0 for a watch, which times itself */
  bodyTimeoutMs?: number;
}

/**
 * One connection pool to the apiserver for every client of the observer: one undici Agent with the
 * access's TLS options (CA, client certificate, server name), keep-alive, so requests reuse
 * connections instead of a TLS handshake each (client-node 2.0 built an Agent per request: the
 * largest CPU cost of the draining observer, issue 11). With `limit`, every request and every
 * watch start first takes a token: the client-side rate limit of `controller.kube-api-qps` /
 * `controller.kube-api-burst`. The bearer token is asked for per request, so a rotated projected
 * token is used once re-read; a rotated client certificate needs a restart.
 */
export class KubeConnection {
  readonly #access: KubeAccess;
  readonly #agent: Agent;
  readonly #limit: TokenBucket | undefined;
  readonly #base: string;
  readonly #onRequest: ((method: KubeMethod, path: string, query: KubeRequest['query']) => void) | undefined;

  /** `onRequest` sees every request as it is sent (the observer counts them by kind). */
  constructor(options: {
    access: KubeAccess;
    limit?: TokenBucket;
    onRequest?: (method: KubeMethod, path: string, query: KubeRequest['query']) => void;
  }) {
    const { access } = options;
    this.#access = access;
    this.#limit = options.limit;
    this.#onRequest = options.onRequest;
    this.#base = access.server.endsWith('/') ? access.server : `${access.server}/`;
    this.#agent = new Agent({
      connect: {
        ...(access.ca ? { ca: access.ca } : {}),
        ...(access.cert ? { cert: access.cert } : {}),
        ...(access.key ? { key: access.key } : {}),
        ...(access.tlsServerName ? { servername: access.tlsServerName } : {}),
        rejectUnauthorized: access.insecureSkipTlsVerify !== true,
      },
    });
  }

  /** Where the access was loaded from, for messages. */
  get source(): string {
    return this.#access.source;
  }

  /** `path` (absolute, e.g. `/api/v1/namespaces/x`) under the server, with the query set. */
  url(path: string, query: KubeRequest['query'] = {}): URL {
    const url = new URL(path.replace(/^\//, ''), this.#base);
    for (const [k, v] of Object.entries(query))
      if (v !== undefined && v !== '') url.searchParams.set(k, String(v));
    return url;
  }

  /** Sends one request (after a rate-limit token); the caller reads or dumps the body. */
  async request(
    method: KubeMethod,
    path: string,
    options: KubeRequest = {},
  ): Promise<Dispatcher.ResponseData> {
    await this.#limit?.take((options.context ?? NO_ATTEMPT).lane);
    const headers: Record<string, string> = { ...options.headers };
    const token = this.#access.token?.();
    if (token) headers.authorization = `Bearer ${token}`;
    this.#onRequest?.(method, path, options.query);
    return request(this.url(path, options.query), {
      method,
      headers,
      body: options.body ?? null,
      dispatcher: this.#agent,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.bodyTimeoutMs !== undefined ? { bodyTimeout: options.bodyTimeoutMs } : {}),
    });
  }

  /** Closes the pool (open watches end). */
  close(): Promise<void> {
    return this.#agent.close();
  }
}
