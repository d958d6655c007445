import { describe, expect, it } from 'vitest';
import { JsonLines } from '../../../src/kube/index.ts';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('JsonLines', () => {
  it('joins a line split across chunks and splits several lines in one chunk', () => {
    const lines = new JsonLines();
    expect(lines.push(bytes('{"type":"ADD'))).toEqual([]);
    expect(lines.push(bytes('ED","n":1}\n{"type":"MODIFIED"}\n{"ty'))).toEqual([
      '{"type":"ADDED","n":1}',
      '{"type":"MODIFIED"}',
    ]);
    expect(lines.push(bytes('pe":"DELETED"}\n\n'))).toEqual(['{"type":"DELETED"}']);
    expect(lines.end()).toEqual([]);
  });

  it('keeps a multi-byte character split across chunks whole', () => {
    const all = bytes('{"name":"café ✓"}\n');
    const at = all.indexOf(0xc3) + 1; // inside the two bytes of é
    const lines = new JsonLines();
    expect([...lines.push(all.slice(0, at)), ...lines.push(all.slice(at))]).toEqual(['{"name":"café ✓"}']);
  });

  it('hands on a last line that has no newline when the stream ends', () => {
    const lines = new JsonLines();
    expect(lines.push(bytes('{"a":1}\n{"b":'))).toEqual(['{"a":1}']);
    expect(lines.push(bytes('2}'))).toEqual([]);
    expect(lines.end()).toEqual(['{"b":2}']);
  });
});
