import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  createSigningSource,
  keyIdOf,
  loadKeyRing,
  type SigningConfig,
  signEnvelope,
} from '../../../src/signing/index.ts';
import { verifyEnvelope } from '../../../src/verify/envelope.ts';
import { generateKey, pkcs8Pem, pythonCosignKey, spkiPem } from './keys.ts';

const source = { namespace: 'provenance-observer', name: 'signing-secrets' };
const b = (s: string | Buffer) => new Uint8Array(Buffer.from(s));
const pw = b('pw');

function cosignSecret() {
  const { privateKey, publicKey } = generateKey('p256');
  return {
    publicKey,
    data: {
      'cosign.key': b(pythonCosignKey(privateKey, pw, 32768)),
      'cosign.password': pw,
      'cosign.pub': b(spkiPem(publicKey)),
    },
  };
}

describe('loadKeyRing', () => {
  it("loads Chains' cosign Secret unchanged: cosign.pub merges into the active key", async () => {
    const { publicKey, data } = cosignSecret();
    const ring = await loadKeyRing(data, source);
    expect(ring.problems).toEqual([]);
    expect(ring.active?.keyId).toBe(keyIdOf(publicKey));
    expect(ring.published).toEqual([
      {
        keyId: keyIdOf(publicKey),
        algorithm: 'ecdsa-p256-sha256',
        publicKeyPem: spkiPem(publicKey),
        active: true,
      },
    ]);
  });

  it('prefers x509.pem over cosign.key, as Chains does', async () => {
    const { data } = cosignSecret();
    const x509 = generateKey('ed25519');
    const ring = await loadKeyRing({ ...data, 'x509.pem': b(pkcs8Pem(x509.privateKey)) }, source);
    expect(ring.active?.keyId).toBe(keyIdOf(x509.publicKey));
    // the cosign.pub of the unused cosign key is reported and published as retired
    expect(ring.published.map((k) => k.active)).toEqual([true, false]);
    expect(ring.problems).toEqual([
      'Secret provenance-observer/signing-secrets key cosign.pub: does not match the active key; published as retired',
    ]);
  });

  it('rotates: old envelopes verify with the retired key published beside the new active one', async () => {
    const old = cosignSecret();
    const oldRing = await loadKeyRing(old.data, source);
    const { envelope } = await signEnvelope(b('{}'), 'application/vnd.in-toto+json', oldRing.active!);

    const next = cosignSecret();
    const ring = await loadKeyRing({ ...next.data, 'retired-2024-06.pub': old.data['cosign.pub'] }, source);
    expect(ring.active?.keyId).toBe(keyIdOf(next.publicKey));
    expect(ring.published.map((k) => [k.keyId, k.active])).toEqual([
      [keyIdOf(next.publicKey), true],
      [keyIdOf(old.publicKey), false],
    ]);
    const retired = ring.published.find((k) => !k.active)!;
    expect(verifyEnvelope(envelope, retired.publicKeyPem).ok).toBe(true);
    expect(verifyEnvelope(envelope, ring.active!.publicKeyPem).ok).toBe(false);
  });

  it('never throws: broken entries become problems naming Secret and entry', async () => {
    const { data } = cosignSecret();
    const ring = await loadKeyRing({ ...data, 'cosign.password': b('wrong'), 'bad.pub': b('nope') }, source);
    expect(ring.active).toBeUndefined();
    expect(ring.activeError?.code).toBe('key_unavailable');
    expect(ring.problems).toContain(
      'Secret provenance-observer/signing-secrets key cosign.key: wrong password',
    );
    expect(ring.problems).toContain(
      'Secret provenance-observer/signing-secrets key bad.pub: no PUBLIC KEY PEM block found',
    );
    // cosign.pub still published so existing attestations keep verifying
    expect(ring.published).toHaveLength(1);
  });

  it('reports a missing password and an empty Secret like Chains', async () => {
    const { data } = cosignSecret();
    const noPassword = await loadKeyRing({ 'cosign.key': data['cosign.key'] }, source);
    expect(noPassword.problems).toEqual([
      'Secret provenance-observer/signing-secrets key cosign.password: missing (needed to decrypt cosign.key)',
    ]);
    const empty = await loadKeyRing({}, source);
    expect(empty.problems).toEqual([
      'Secret provenance-observer/signing-secrets: no valid private key found, looked for: [x509.pem, cosign.key]',
    ]);
  });
});

describe('createSigningSource', () => {
  const config: SigningConfig = {
    signingSecret: source,
    fulcio: { enabled: false, address: 'https://fulcio.example', issuer: 'https://issuer.example' },
    transparency: { mode: 'off', url: 'https://rekor.example' },
    kms: { sessions: 0 },
    workers: 4,
    backlogWorkers: 0,
  };

  it('is not ready until the Secret is loaded, then follows each reload', async () => {
    const signing = createSigningSource({ config });
    expect(signing.status().ready).toBe(false);
    expect(signing.active()).toBeUndefined();
    expect(signing.transparencyLog()).toBeUndefined();
    const first = cosignSecret();
    await signing.reload(first.data);
    expect(signing.status()).toEqual({
      ready: true,
      message: `signing with key ${keyIdOf(first.publicKey)} (ecdsa-p256-sha256), 0 retired key(s) published`,
    });
    await signing.reload({});
    expect(signing.status().ready).toBe(false);
    expect(signing.status().message).toContain('no valid private key found');
    expect(signing.publicKeys()).toEqual([]);
  });

  it('goes keyless when fulcio is enabled, reading the token file per signature', async () => {
    const keyless = createSigningSource({
      config: {
        ...config,
        fulcio: { ...config.fulcio, enabled: true, tokenFile: '/token' },
        transparency: { mode: 'manual', url: 'https://rekor.example' },
      },
      readFile: async () => b('jwt'),
    });
    expect(keyless.status()).toEqual({
      ready: true,
      message: 'keyless signing with Fulcio https://fulcio.example, token from /token',
    });
    expect(keyless.active()?.algorithm).toBe('ecdsa-p256-sha256');
    expect(keyless.transparencyLog()).toBeDefined();
    const unsupported = createSigningSource({
      config: { ...config, fulcio: { ...config.fulcio, enabled: true, provider: 'github-actions' } },
    });
    expect(unsupported.status().ready).toBe(false);
    expect(unsupported.active()).toBeUndefined();
  });
});

describe('keys-example (THROWAWAY)', () => {
  it('holds one key in both forms: x509.pem and cosign.key + cosign.password match cosign.pub', async () => {
    const read = (f: string) =>
      new Uint8Array(readFileSync(join(import.meta.dirname, '../../../keys-example', f)));
    const cosign = await loadKeyRing(
      {
        'cosign.key': read('cosign.key'),
        'cosign.password': read('cosign.password'),
        'cosign.pub': read('cosign.pub'),
      },
      source,
    );
    const x509 = await loadKeyRing(
      { 'x509.pem': read('x509.pem'), 'cosign.pub': read('cosign.pub') },
      source,
    );
    expect(cosign.problems).toEqual([]);
    expect(x509.problems).toEqual([]);
    expect(cosign.active?.keyId).toBe(x509.active?.keyId);
  });
});
