import { JsonItemStream, type StreamedItem } from './json-items.ts';
import { KubeApiError, parsedBody } from './kube-api-error.ts';
import { readSmall } from './kube-body.ts';
import type { KubeConnection, KubeRequest } from './kube-connection.ts';

/** What a page of a list said besides its items. */
export interface ListedPage {
  resourceVersion: string;
  continueToken?: string;
  /** items handed on, and their JSON bytes */
  items: number;
  bytes: number;
}

/**
 * One page of a collection (`GET path?limit=…&continue=…`), parsed as it streams (JsonItemStream):
 * each item is handed to `onItem` as soon as it is complete, and the body is not read further
 * until `onItem` resolves (the socket's own buffer is the back-pressure), so one object, not the
 * page, is in memory. A status outside 2xx is a KubeApiError; a body that is not JSON, or ends
 * early, throws (the caller lists again).
 */
export async function listPage(
  connection: KubeConnection,
  path: string,
  query: KubeRequest['query'],
  onItem: (item: StreamedItem) => Promise<void>,
): Promise<ListedPage> {
  const res = await connection.request('GET', path, { query, headers: { accept: 'application/json' } });
  if (res.statusCode < 200 || res.statusCode >= 300)
    throw new KubeApiError(res.statusCode, parsedBody(await readSmall(res.body)));
  const ready: StreamedItem[] = [];
  let document: Record<string, unknown> = {};
  const stream = new JsonItemStream({
    place: 'list',
    onItem: (item) => ready.push(item),
    onDocument: (d) => {
      document = d;
    },
  });
  const page = { items: 0, bytes: 0 };
  const handOn = async () => {
    for (let item = ready.shift(); item; item = ready.shift()) {
      page.items++;
      page.bytes += item.bytes;
      await onItem(item);
    }
  };
  try {
    for await (const chunk of res.body) {
      stream.write(chunk as Buffer);
      await handOn();
    }
    stream.end();
    await handOn();
  } finally {
    res.body.destroy();
  }
  const md = (document.metadata ?? {}) as { resourceVersion?: unknown; continue?: unknown };
  return {
    resourceVersion: typeof md.resourceVersion === 'string' ? md.resourceVersion : '',
    ...(typeof md.continue === 'string' && md.continue ? { continueToken: md.continue } : {}),
    ...page,
  };
}

/** The bytes a list page should stay near: the apiserver builds each page whole, so does a proxy in between. */
export const TARGET_PAGE_BYTES = 8 * 1024 * 1024;
/** The fewest items asked per page, however large they are. */
export const MIN_PAGE_SIZE = 10;

/**
 * The next page's `limit`: as many items as fit TARGET_PAGE_BYTES at the average size of the
 * items listed so far, between MIN_PAGE_SIZE and `max` (the configured page size). Small runs
 * keep the full page; runs of 250 KiB are asked ~32 at a time.
 */
export function nextPageSize(max: number, listed: { items: number; bytes: number }): number {
  if (listed.items === 0) return max;
  const average = listed.bytes / listed.items;
  return Math.max(MIN_PAGE_SIZE, Math.min(max, Math.floor(TARGET_PAGE_BYTES / Math.max(1, average))));
}
