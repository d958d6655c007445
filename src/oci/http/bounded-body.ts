import type { RegistryResponse } from './registry-transport.ts';
/**
 * Byte caps on registry answers. A registry is tenant-chosen, so every body is read through a cap
 * that cancels the stream as soon as it is exceeded, never buffering past it.
 */

/** Manifests and indexes: 4 MiB, distribution's own limit (registry/handlers/manifests.go maxManifestBodySize). */
export const MANIFEST_LIMIT = 4 * 1024 * 1024;
/** Token answers and error bodies: 64 KiB. */
export const SMALL_BODY_LIMIT = 64 * 1024;
/** Blobs read back (`verify` reads attestation layers): 64 MiB unless the caller says otherwise. */
export const BLOB_LIMIT = 64 * 1024 * 1024;

/** Thrown when a body is larger than its cap; the stream is cancelled before this is thrown. */
export class BodyTooLarge extends Error {
  readonly limit: number;
  constructor(limit: number) {
    super(`answer larger than ${limit} bytes`);
    this.limit = limit;
    this.name = 'BodyTooLarge';
  }
}

/** Thrown for an answer with a Content-Encoding other than identity (we asked for identity). */
export class EncodedBody extends Error {
  readonly encoding: string;
  constructor(encoding: string) {
    super(`answer has Content-Encoding ${encoding.slice(0, 40)}`);
    this.encoding = encoding;
    this.name = 'EncodedBody';
  }
}

/**
 * Reads an answer's body to its end and drops it, so the connection goes back to the pool: a
 * cancelled body makes undici abort the request, close the socket and build an error with a stack
 * trace (measured as a large share of the observer's CPU per run, and a new connection each time).
 * A body larger than `limit` (or encoded) is cancelled instead. Never throws.
 */
export async function discardBody(res: RegistryResponse, limit = SMALL_BODY_LIMIT): Promise<void> {
  try {
    await readCapped(res, limit);
  } catch {
    // cancelled by readCapped, or the stream failed: either way nothing is left to read
  }
}

/**
 * The whole body as bytes, at most `limit` of them. A declared Content-Length over the cap fails
 * before reading; a stream that grows past it is cancelled at the chunk that crosses it. A body with
 * a Content-Encoding other than identity is refused unread: we ask for identity, and decoding a
 * compressed answer is how a small answer becomes gigabytes.
 */
export async function readCapped(
  res: RegistryResponse,
  limit: number,
  /** told the bytes read so far after each chunk (the memory budget grows with them) */
  onRead?: (total: number) => Promise<void>,
): Promise<Uint8Array> {
  const encoding = (res.headers.get('content-encoding') ?? '').trim().toLowerCase();
  if (encoding && encoding !== 'identity') {
    await res.body?.cancel().catch(() => undefined);
    throw new EncodedBody(encoding);
  }
  const declared = Number(res.headers.get('content-length') ?? Number.NaN);
  if (declared > limit) {
    await res.body?.cancel().catch(() => undefined);
    throw new BodyTooLarge(limit);
  }
  if (!res.body) return new Uint8Array(0);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => undefined);
      throw new BodyTooLarge(limit);
    }
    chunks.push(value);
    await onRead?.(total);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** The body as JSON, read through the cap. */
export async function readCappedJson<T>(res: RegistryResponse, limit: number): Promise<T> {
  return JSON.parse(new TextDecoder().decode(await readCapped(res, limit))) as T;
}
