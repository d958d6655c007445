import { JsonItemStream, type StreamedItem } from './json-items.ts';
import { KubeApiError, parsedBody } from './kube-api-error.ts';
import { readSmall } from './kube-body.ts';
import type { KubeConnection, KubeRequest } from './kube-connection.ts';

/** One watch event (metav1.WatchEvent): ADDED, MODIFIED, DELETED, BOOKMARK or ERROR (a Status). */
export interface WatchEvent<T = unknown> {
  type: string;
  object: T;
  /** the object's JSON bytes in the stream */
  bytes?: number;
  /** the object was over MAX_ITEM_BYTES: `object` holds only its metadata's names (json-items.ts) */
  oversized?: boolean;
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
 * Watches `path` (a collection) with `watch=true`: the streamed answer is parsed as it arrives,
 * event by event (JsonItemStream: an object over MAX_ITEM_BYTES is cut to its metadata while it
 * streams), and each event is handed to `onEvent` in order. A body that is not JSON ends the
 * watch with an error (the caller resumes it). Resolves when the stream ends
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
    if (res.statusCode !== 200) throw new KubeApiError(res.statusCode, parsedBody(await readSmall(res.body)));
    options.onOpen?.();
    const events = new JsonItemStream({
      place: 'watch',
      onDocument: (event, item) => deliver(event, item, onEvent),
    });
    for await (const chunk of res.body) {
      touch();
      events.write(chunk as Buffer);
    }
    events.end();
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

function deliver<T>(
  event: Record<string, unknown>,
  item: StreamedItem | undefined,
  onEvent: (event: WatchEvent<T>) => void,
): void {
  if (typeof event.type !== 'string') return;
  onEvent({
    type: event.type,
    object: (item?.value ?? event.object) as T,
    ...(item ? { bytes: item.bytes, ...(item.oversized ? { oversized: true } : {}) } : {}),
  });
}
