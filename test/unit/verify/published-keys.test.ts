import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { PublicKeyInfo } from '../../../src/signing/index.ts';
import { publishedKeyVerifier, scopedKeyVerifier } from '../../../src/verify/index.ts';

const pair = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
const info = (k: ReturnType<typeof pair>, active: boolean): PublicKeyInfo => ({
  keyId: active ? 'current' : 'retired',
  algorithm: 'ecdsa-p256-sha256',
  publicKeyPem: k.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  active,
});
const message = new TextEncoder().encode('DSSEv1 28 application/vnd.in-toto+json 2 {}');

describe('publishedKeyVerifier', () => {
  it('accepts signatures by the current and retired keys, not by others, and follows a rotation', () => {
    const current = pair();
    const retired = pair();
    const other = pair();
    let keys: PublicKeyInfo[] = [info(current, true), info(retired, false)];
    const verifies = publishedKeyVerifier(() => keys);
    expect(verifies(message, sign('sha256', message, current.privateKey))).toBe(true);
    expect(verifies(message, sign('sha256', message, retired.privateKey))).toBe(true);
    expect(verifies(message, sign('sha256', message, other.privateKey))).toBe(false);
    expect(verifies(message, new Uint8Array([0x30, 0x01]))).toBe(false);
    keys = [info(other, true), { ...info(retired, false), publicKeyPem: 'not a key' }];
    expect(verifies(message, sign('sha256', message, other.privateKey))).toBe(true);
    expect(verifies(message, sign('sha256', message, current.privateKey))).toBe(false);
  });
});

describe('scopedKeyVerifier', () => {
  it("verifies with the platform's keys, or with the named tenant's only", () => {
    const platform = pair();
    const a = pair();
    const b = pair();
    const tenants: Record<string, PublicKeyInfo[]> = { a: [info(a, true)], b: [info(b, true)] };
    const verifies = scopedKeyVerifier(
      () => [info(platform, true)],
      (name) => tenants[name] ?? [],
    );
    const by = (k: ReturnType<typeof pair>) => sign('sha256', message, k.privateKey);
    expect(verifies(message, by(platform))).toBe(true);
    expect(verifies(message, by(a))).toBe(false);
    expect(verifies(message, by(a), 'a')).toBe(true);
    expect(verifies(message, by(b), 'a')).toBe(false);
    expect(verifies(message, by(platform), 'a')).toBe(false);
    expect(verifies(message, by(a), 'unknown')).toBe(false);
    expect(verifies.keyIdOf(message, by(platform))).toBe('current');
    expect(verifies.keyIdOf(message, by(a))).toBeUndefined();
  });
});
