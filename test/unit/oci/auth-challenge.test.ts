import { describe, expect, it } from 'vitest';
import { parseChallenge, TokenCache } from '../../../src/oci/index.ts';

describe('parseChallenge', () => {
  it('reads a distribution Bearer challenge with quoted, comma-separated params', () => {
    expect(
      parseChallenge(
        'Bearer realm="http://127.0.0.1:5001/token",service="test-registry",scope="repository:demo/app:push,pull"',
      ),
    ).toEqual({
      scheme: 'bearer',
      realm: 'http://127.0.0.1:5001/token',
      service: 'test-registry',
      scope: 'repository:demo/app:push,pull',
    });
  });
  it('reads Basic, and rejects unknown schemes or a Bearer without realm', () => {
    expect(parseChallenge('Basic realm="Registry Realm"')).toEqual({ scheme: 'basic' });
    expect(parseChallenge('Negotiate abc')).toBeUndefined();
    expect(parseChallenge('Bearer service="x"')).toBeUndefined();
    expect(parseChallenge(null)).toBeUndefined();
  });
});

describe('TokenCache', () => {
  it('keeps a token until shortly before expires_in, per scope', () => {
    let now = 1_000_000;
    const cache = new TokenCache({ now: () => now });
    expect(cache.put('repository:a:pull', { token: 't1', expires_in: 300 })).toBe('t1');
    expect(cache.put('repository:b:pull', { access_token: 't2' })).toBe('t2');
    expect(cache.get('repository:a:pull')).toBe('t1');
    expect(cache.get('repository:b:pull')).toBe('t2');
    now += 289_000;
    expect(cache.get('repository:a:pull')).toBe('t1');
    expect(cache.get('repository:b:pull')).toBeUndefined(); // 60 s default lifetime
    now += 2_000;
    expect(cache.get('repository:a:pull')).toBeUndefined();
  });
  it('stores nothing when the answer carries no token', () => {
    const cache = new TokenCache();
    expect(cache.put('s', {})).toBeUndefined();
    expect(cache.get('s')).toBeUndefined();
  });
});

describe('parseChallenge on hostile headers', () => {
  it('takes linear time: the cost per character of an 8 KiB header is that of a 1 KiB one (quadratic: 8x)', () => {
    const shapes = [
      (n: number) => `Bearer ${'a'.repeat(n)}`,
      (n: number) => `Bearer realm="${'\\"'.repeat(n / 2)}`,
      (n: number) => `Bearer ${'a=b,'.repeat(n / 4)}`,
      (n: number) => `Bearer ${'a '.repeat(n / 2)}`,
    ];
    /** time per character, best of 7 rounds over the same total length, so load does not decide */
    const perChar = (header: string) => {
      const rounds = Math.ceil(400_000 / header.length);
      let best = Number.POSITIVE_INFINITY;
      for (let r = 0; r < 7; r++) {
        const started = performance.now();
        for (let i = 0; i < rounds; i++) parseChallenge(header);
        best = Math.min(best, performance.now() - started);
      }
      return best / (rounds * header.length);
    };
    for (const shape of shapes) {
      perChar(shape(8000)); // warm up
      // the lowest of three ratios: a burst of load can slow one measurement, never all three
      const ratios = [0, 1, 2].map(() => perChar(shape(8000)) / perChar(shape(1000)));
      expect(Math.min(...ratios)).toBeLessThan(4);
    }
  });

  it('refuses headers longer than 8 KiB unread, and garbage', () => {
    expect(parseChallenge(`Bearer realm="https://a.test/t",x="${'y'.repeat(9000)}"`)).toBeUndefined();
    expect(parseChallenge('Bearer realm="unterminated')).toBeUndefined();
    expect(parseChallenge('Bearer =x')).toBeUndefined();
    expect(parseChallenge('Bearer \u0000\u0001\u0002')).toBeUndefined();
  });

  it('reads the first challenge of a joined header and keeps the first value of a repeated param', () => {
    expect(
      parseChallenge(
        'Bearer realm="https://a.test/t",service=reg, Basic realm="other",realm="https://b.test"',
      ),
    ).toEqual({ scheme: 'bearer', realm: 'https://a.test/t', service: 'reg' });
    expect(parseChallenge('Bearer realm="https://a.test/t",realm="https://evil.test/t"')).toMatchObject({
      realm: 'https://a.test/t',
    });
  });
});
