import { describe, expect, it } from 'vitest';
import { CursorSealer, decodeCursor, encodeCursor } from '../../../src/index/cursor.ts';

const inner = encodeCursor({ createdAt: 1_700_000_000_000, id: 'ab'.repeat(32) });

describe('CursorSealer', () => {
  it('opens what it sealed, for the same context only', () => {
    const sealer = new CursorSealer();
    const sealed = sealer.seal(inner, 'sha256:aa');
    expect(sealed).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(sealer.open(sealed, 'sha256:aa')).toBe(inner);
    expect(decodeCursor(sealer.open(sealed, 'sha256:aa') ?? '')?.id).toBe('ab'.repeat(32));
    expect(sealer.open(sealed, 'sha256:bb')).toBeUndefined();
  });

  it('is opaque: neither the position nor the inner cursor shows in the sealed one', () => {
    const sealed = new CursorSealer().seal(inner, 'd');
    const bytes = Buffer.from(sealed, 'base64url');
    expect(sealed).not.toContain(inner);
    expect(bytes.toString('latin1')).not.toContain('ab'.repeat(32));
    expect(bytes.includes(Buffer.from('ab'.repeat(32), 'hex'))).toBe(false);
    expect(bytes.toString('latin1')).not.toContain('1700000000000');
  });

  it('refuses every single-bit change, truncation, extension and garbage', () => {
    const sealer = new CursorSealer();
    const raw = Buffer.from(sealer.seal(inner, 'd'), 'base64url');
    for (let i = 0; i < raw.length; i++) {
      const altered = Buffer.from(raw);
      altered[i] ^= 0x01;
      expect(sealer.open(altered.toString('base64url'), 'd'), `byte ${i}`).toBeUndefined();
    }
    for (const bad of [
      raw.subarray(0, raw.length - 1),
      raw.subarray(0, 29),
      Buffer.concat([raw, Buffer.of(0)]),
    ])
      expect(sealer.open(bad.toString('base64url'), 'd')).toBeUndefined();
    for (const bad of ['', 'A', inner, '!!!!', 'x'.repeat(2000)])
      expect(sealer.open(bad, 'd')).toBeUndefined();
  });

  it('sealers with the same secret agree (replicas); another secret or the default random one does not', () => {
    const secret = Buffer.alloc(32, 1);
    const sealed = new CursorSealer({ secret }).seal(inner, 'd');
    expect(new CursorSealer({ secret: Buffer.from(secret) }).open(sealed, 'd')).toBe(inner);
    expect(new CursorSealer({ secret: Buffer.alloc(32, 2) }).open(sealed, 'd')).toBeUndefined();
    expect(new CursorSealer().open(sealed, 'd')).toBeUndefined();
  });

  it('refuses a secret shorter than 32 bytes', () => {
    expect(() => new CursorSealer({ secret: Buffer.alloc(31) })).toThrow(/at least 32 bytes/);
  });

  it('seals the same cursor differently each time (random nonce)', () => {
    const sealer = new CursorSealer();
    expect(sealer.seal(inner, 'd')).not.toBe(sealer.seal(inner, 'd'));
  });
});
