import { JsonLines } from './json-lines.ts';
import { KubeApiError, parsedBody } from './kube-api-error.ts';
import type { KubeConnection, KubeRequest } from './kube-connection.ts';

/** One watch event (metav1.WatchEvent): ADDED, MODIFIED, DELETED, BOOKMARK or ERROR (a Status). */
export interface WatchEvent<T = unknown> {
  type: string;
  object: T;
}

/** How a watch ended without failing: the server closed it, it fell silent, or the caller aborted. */
export type WatchEnd = 'closed' | 'idle' | 'aborted';

export interface WatchOptions {
  /** query parameters besides `watch` (resourceVersion, allowWatchBookmarks, timeoutSeconds, …) */
  query?: KubeRequest['query'];
  /** ends the watch ('aborted') */
  signal?: AbortSignal;
  /**
   * No byte for this long ends the watch ('idle'), as client-node's Watch did (30 s): a connection
   * that died without a reset would otherwise hang forever. Default 30 s; bookmarks and events
   * keep a healthy watch busy.
   */
  idleTimeoutMs?: number;
  /** called once the server accepted the watch (200), before the first event */
  onOpen?: () => void;
}

/**
 * Watches `path` (a collection) with `watch=true`: each line of the streamed answer is parsed and
 * handed to `onEvent` in order (a line that is not JSON is skipped). Resolves when the stream ends
 * (see WatchEnd). A status outside 2xx is a KubeApiError (410 Gone included: the caller re-lists);
 * a reset connection rejects with undici's error. An ERROR event is an event: the caller decides.
 */
export async function watch<T>(
  connection: KubeConnection,
  path: string,
  onEvent: (event: WatchEvent<T>) => void,
  options: WatchOptions = {},
): Promise<WatchEnd> {
  const controller = new AbortController();
  const stop = () => controller.abort();
  options.signal?.addEventListener('abort', stop, { once: true });
  let idle = false;
  let timer: NodeJS.Timeout | undefined;
  const touch = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      idle = true;
      controller.abort();
    }, options.idleTimeoutMs ?? 30_000);
    timer.unref();
  };
  try {
    if (options.signal?.aborted) return 'aborted';
    touch();
    const res = await connection.request('GET', path, {
      query: { ...options.query, watch: 'true' },
      headers: { accept: 'application/json' },
      signal: controller.signal,
      bodyTimeoutMs: 0,
    });
    if (res.statusCode !== 200) throw new KubeApiError(res.statusCode, parsedBody(await res.body.text()));
    options.onOpen?.();
    const lines = new JsonLines();
    for await (const chunk of res.body) {
      touch();
      for (const line of lines.push(chunk as Buffer)) deliver(line, onEvent);
    }
    for (const line of lines.end()) deliver(line, onEvent);
    return 'closed';
  } catch (err) {
    if (idle) return 'idle';
    if (controller.signal.aborted) return 'aborted';
    throw err;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', stop);
  }
}

function deliver<T>(line: string, onEvent: (event: WatchEvent<T>) => void): void {
  let event: WatchEvent<T>;
  try {
    event = JSON.parse(line) as WatchEvent<T>;
  } catch {
    return;
  }
  onEvent(event);
}
