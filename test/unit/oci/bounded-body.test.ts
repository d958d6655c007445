import { describe, expect, it } from 'vitest';
import { BodyTooLarge, EncodedBody, readCapped } from '../../../src/oci/index.ts';

/** A body of `chunks` chunks of `size` bytes, counting how many were pulled and whether it was cancelled. */
function countingBody(chunks: number, size: number) {
  const seen = { pulled: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (seen.pulled === chunks) return controller.close();
      seen.pulled++;
      controller.enqueue(new Uint8Array(size));
    },
    cancel() {
      seen.cancelled = true;
    },
  });
  return { stream, seen };
}

describe('readCapped', () => {
  it('returns a body under the cap whole', async () => {
    const { stream } = countingBody(3, 10);
    expect((await readCapped(new Response(stream), 30)).byteLength).toBe(30);
  });

  it('cancels a stream at the chunk that crosses the cap, without reading the rest', async () => {
    const { stream, seen } = countingBody(1000, 1024);
    await expect(readCapped(new Response(stream), 4096)).rejects.toBeInstanceOf(BodyTooLarge);
    expect(seen.cancelled).toBe(true);
    expect(seen.pulled).toBeLessThan(10);
  });

  it('refuses a declared Content-Length over the cap before reading', async () => {
    const { stream, seen } = countingBody(1, 10);
    const res = new Response(stream, { headers: { 'content-length': '5000000' } });
    await expect(readCapped(res, 4096)).rejects.toBeInstanceOf(BodyTooLarge);
    expect(seen.pulled).toBeLessThanOrEqual(1);
    expect(seen.cancelled).toBe(true);
  });

  it('refuses a compressed body unread (we ask for identity)', async () => {
    const { stream, seen } = countingBody(5, 10);
    const res = new Response(stream, { headers: { 'content-encoding': 'gzip' } });
    await expect(readCapped(res, 4096)).rejects.toBeInstanceOf(EncodedBody);
    expect(seen.cancelled).toBe(true);
    const plain = new Response('{}', { headers: { 'content-encoding': 'identity' } });
    expect(new TextDecoder().decode(await readCapped(plain, 10))).toBe('{}');
  });
});
