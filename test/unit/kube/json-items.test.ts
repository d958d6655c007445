import { describe, expect, it } from 'vitest';
import { JsonItemStream, type StreamedItem } from '../../../src/kube/client/json-items.ts';

const run = (name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'tekton.dev/v1',
  kind: 'TaskRun',
  metadata: { name, namespace: 'ns', uid: `uid-${name}`, resourceVersion: '7', annotations: { a: 'b' } },
  spec: { params: [{ name: 'x', value: [1, true, null, 'é'] }] },
  status: { conditions: [{ type: 'Succeeded', status: 'True' }] },
  ...extra,
});

/** Feeds `text` in chunks of `size` bytes (splitting tokens and multi-byte characters anywhere). */
function feed(stream: JsonItemStream, text: string, size: number): void {
  const bytes = new TextEncoder().encode(text);
  for (let i = 0; i < bytes.length; i += size) stream.write(bytes.subarray(i, i + size));
  stream.end();
}

describe('JsonItemStream: one object, not one page, is the unit in memory', () => {
  it('hands on each list item whole and keeps the list document without them, whatever the chunking', () => {
    const list = {
      kind: 'TaskRunList',
      metadata: { resourceVersion: '42', continue: 'abc' },
      items: [run('a'), run('b', { status: { x: [[], {}, [{ y: 'z' }]] } })],
    };
    for (const size of [1, 3, 7, 4096]) {
      const items: StreamedItem[] = [];
      let doc: Record<string, unknown> | undefined;
      const stream = new JsonItemStream({
        place: 'list',
        onItem: (i) => items.push(i),
        onDocument: (d) => {
          doc = d;
        },
      });
      feed(stream, JSON.stringify(list), size);
      expect(items.map((i) => i.value)).toEqual(list.items);
      expect(items.every((i) => !i.oversized)).toBe(true);
      expect(items[0].bytes).toBe(JSON.stringify(list.items[0]).length + 1); // é is two bytes
      expect(doc).toEqual({ kind: 'TaskRunList', metadata: list.metadata, items: [] });
    }
  });

  it('an item over the bound keeps only the names in its metadata, whichever comes first', () => {
    const big = 'x'.repeat(5000);
    const first = run('big', { spec: { blob: big, more: [{ blob: big }] } });
    const late = { spec: { blob: big }, metadata: { name: 'late', uid: 'u2', annotations: { big } } };
    const items: StreamedItem[] = [];
    const stream = new JsonItemStream({ place: 'list', maxItemBytes: 1000, onItem: (i) => items.push(i) });
    feed(stream, JSON.stringify({ items: [first, late, run('small')] }), 512);
    expect(items.map((i) => [i.oversized, i.value])).toEqual([
      [true, { metadata: { name: 'big', namespace: 'ns', uid: 'uid-big', resourceVersion: '7' } }],
      [true, { metadata: { name: 'late', uid: 'u2' } }],
      [false, run('small')],
    ]);
  });

  it('parses a watch stream event by event (type and object), an oversized object cut to its names', () => {
    const events = [
      { type: 'ADDED', object: run('a') },
      { type: 'BOOKMARK', object: { kind: 'TaskRun', metadata: { resourceVersion: '9' } } },
      { type: 'MODIFIED', object: run('b', { status: { log: 'y'.repeat(3000) } }) },
      { type: 'ERROR', object: { kind: 'Status', code: 410 } },
    ];
    const seen: [unknown, StreamedItem | undefined][] = [];
    const stream = new JsonItemStream({
      place: 'watch',
      maxItemBytes: 2000,
      onDocument: (d, item) => seen.push([d.type, item]),
    });
    feed(stream, `${events.map((e) => JSON.stringify(e)).join('\n')}\n`, 100);
    expect(seen.map(([t]) => t)).toEqual(['ADDED', 'BOOKMARK', 'MODIFIED', 'ERROR']);
    expect(seen[0][1]?.value).toEqual(run('a'));
    expect(seen[2][1]?.oversized).toBe(true);
    expect(seen[2][1]?.value).toEqual({
      metadata: { name: 'b', namespace: 'ns', uid: 'uid-b', resourceVersion: '7' },
    });
    expect(seen[3][1]?.value).toEqual({ kind: 'Status', code: 410 });
  });

  it('invalid JSON throws; a body cut inside a document throws at the end', () => {
    expect(() => feed(new JsonItemStream({ place: 'list' }), '{"items":[}', 4)).toThrow();
    expect(() => feed(new JsonItemStream({ place: 'list' }), '{"items":[{"a":1}', 4)).toThrow();
  });
});
