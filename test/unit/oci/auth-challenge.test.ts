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
