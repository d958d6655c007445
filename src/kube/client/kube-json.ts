import { KubeApiError, parsedBody } from './kube-api-error.ts';
import type { KubeConnection, KubeMethod, KubeRequest } from './kube-connection.ts';

/** The content type of a JSON merge patch (RFC 7386), which the apiserver takes for any object. */
export const MERGE_PATCH = 'application/merge-patch+json';

/**
 * JSON requests to the apiserver over the observer's one KubeConnection. Answers are parsed JSON
 * (undefined for an empty body); a status outside 2xx is a KubeApiError with the status and the
 * parsed answer; network failures are undici's errors, as thrown.
 */
export class KubeJson {
  readonly #connection: KubeConnection;

  constructor(connection: KubeConnection) {
    this.#connection = connection;
  }

  async send<T>(
    method: KubeMethod,
    path: string,
    options: {
      query?: KubeRequest['query'];
      body?: unknown;
      contentType?: string;
      context?: KubeRequest['context'];
    } = {},
  ): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
    const res = await this.#connection.request(method, path, {
      headers,
      ...(options.context ? { context: options.context } : {}),
      ...(options.query ? { query: options.query } : {}),
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    });
    const text = await res.body.text();
    if (res.statusCode < 200 || res.statusCode >= 300)
      throw new KubeApiError(res.statusCode, parsedBody(text));
    return (text ? JSON.parse(text) : undefined) as T;
  }
}
