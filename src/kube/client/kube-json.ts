import { KubeApiError, parsedBody } from './kube-api-error.ts';
import { OBJECT_ANSWER_LIMIT, readSmall, readWithinBudget } from './kube-body.ts';
import type { KubeConnection, KubeMethod, KubeRequest } from './kube-connection.ts';

/** The content type of a JSON merge patch (RFC 7386), which the apiserver takes for any object. */
export const MERGE_PATCH = 'application/merge-patch+json';

/**
 * JSON requests to the apiserver over the observer's one KubeConnection. Answers are parsed JSON
 * (undefined for an empty body), read through OBJECT_ANSWER_LIMIT within the memory budget; a status outside 2xx is a KubeApiError with the status and the
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
    if (res.statusCode < 200 || res.statusCode >= 300)
      throw new KubeApiError(res.statusCode, parsedBody(await readSmall(res.body)));
    // a run or Pod is the tenant's: read through a cap, within the process's memory budget
    return readWithinBudget(res, OBJECT_ANSWER_LIMIT, (text) => (text ? JSON.parse(text) : undefined) as T, {
      ...(options.context?.signal ? { signal: options.context.signal } : {}),
    });
  }
}
