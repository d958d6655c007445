import { execFileSync } from 'node:child_process';
import { createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ObserverError } from '../../../src/errors.ts';
import { keyIdOf, loadCosignKey, loadPublicKey, loadX509Pem } from '../../../src/signing/index.ts';
import { fixture, generateKey, KEY_KINDS, pkcs8Pem, pythonCosignKey, spkiPem, tempDir } from './keys.ts';
import { algorithmFor } from './signers.ts';

const ref = (entry: string) => ({ namespace: 'provenance-observer', name: 'signing-secrets', entry });
const pw = Buffer.from('correct horse');

async function rejection(p: Promise<unknown> | (() => unknown)): Promise<ObserverError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    expect(err).toBeInstanceOf(ObserverError);
    expect((err as ObserverError).code).toBe('key_unavailable');
    return err as ObserverError;
  }
  throw new Error('expected a rejection');
}

interface CosignKeyJson {
  kdf: { name: string; params: { r: number } };
  ciphertext: string;
}

/** Re-encodes a cosign PEM after editing its JSON (for KDF-parameter tests). */
function editCosignKey(pem: Buffer, edit: (json: CosignKeyJson) => void): Buffer {
  const b64 = pem
    .toString('utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('-----'))
    .join('');
  const json = JSON.parse(Buffer.from(b64, 'base64').toString('utf8')) as CosignKeyJson;
  edit(json);
  const body = Buffer.from(JSON.stringify(json)).toString('base64');
  return Buffer.from(
    `-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n${body}\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n`,
  );
}

describe('loadCosignKey (keys encrypted by an independent Python implementation)', () => {
  for (const n of [32768, 65536, 131072]) {
    it(`decrypts N=${n} and signs with the same key`, async () => {
      const { privateKey, publicKey } = generateKey('p256');
      const signer = await loadCosignKey(pythonCosignKey(privateKey, pw, n), pw, ref('cosign.key'));
      expect(signer.keyId).toBe(keyIdOf(publicKey));
      expect(signer.publicKeyPem).toBe(spkiPem(publicKey));
      const { signature } = await signer.sign(Buffer.from('data'));
      expect(verify('sha256', Buffer.from('data'), publicKey, signature)).toBe(true);
    });
  }

  for (const kind of KEY_KINDS) {
    it(`loads ${kind} with cosign's default scheme`, async () => {
      const { privateKey } = generateKey(kind);
      const signer = await loadCosignKey(pythonCosignKey(privateKey, pw, 32768), pw, ref('cosign.key'));
      expect(signer.algorithm).toBe(algorithmFor(kind));
    });
  }

  it('accepts the legacy ENCRYPTED COSIGN PRIVATE KEY label', async () => {
    const { privateKey, publicKey } = generateKey('p256');
    const pem = pythonCosignKey(privateKey, pw, 32768, 'ENCRYPTED COSIGN PRIVATE KEY');
    expect((await loadCosignKey(pem, pw, ref('cosign.key'))).keyId).toBe(keyIdOf(publicKey));
  });

  it('uses the password verbatim (a trailing newline matters) and says "wrong password"', async () => {
    const { privateKey } = generateKey('p256');
    const pem = pythonCosignKey(privateKey, Buffer.from('pw\n'), 32768);
    const err = await rejection(loadCosignKey(pem, Buffer.from('pw'), ref('cosign.key')));
    expect(err.message).toBe('Secret provenance-observer/signing-secrets key cosign.key: wrong password');
    await expect(loadCosignKey(pem, Buffer.from('pw\n'), ref('cosign.key'))).resolves.toBeDefined();
  });

  it('rejects KDF parameters outside cosign/securesystemslib’s sets', async () => {
    const { privateKey } = generateKey('p256');
    const weak = await rejection(
      loadCosignKey(pythonCosignKey(privateKey, pw, 16384), pw, ref('cosign.key')),
    );
    expect(weak.message).toContain('unsupported scrypt parameters N=16384 r=8 p=1');
    const pem = pythonCosignKey(privateKey, pw, 32768);
    const r16 = await rejection(
      loadCosignKey(
        editCosignKey(pem, (j) => (j.kdf.params.r = 16)),
        pw,
        ref('cosign.key'),
      ),
    );
    expect(r16.message).toContain('r=16');
    const argon = editCosignKey(pem, (j) => (j.kdf.name = 'argon2'));
    expect((await rejection(loadCosignKey(argon, pw, ref('cosign.key')))).message).toContain(
      'unsupported KDF argon2',
    );
  });

  it('reports a corrupt key without echoing its bytes', async () => {
    const { privateKey } = generateKey('p256');
    const pem = pythonCosignKey(privateKey, pw, 32768);
    const notJson = Buffer.from(
      '-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n',
    );
    expect((await rejection(loadCosignKey(notJson, pw, ref('cosign.key')))).message).toContain('not JSON');
    const truncated = editCosignKey(pem, (j) => (j.ciphertext = j.ciphertext.slice(0, 8)));
    const err = await rejection(loadCosignKey(truncated, pw, ref('cosign.key')));
    expect(err.message).toMatch(/^Secret provenance-observer\/signing-secrets key cosign.key: /);
    expect(err.message).not.toContain(pem.toString('utf8').split('\n')[1]?.slice(0, 20));
    const plain = Buffer.from(pkcs8Pem(privateKey));
    expect((await rejection(loadCosignKey(plain, pw, ref('cosign.key')))).message).toContain(
      'not an encrypted cosign key (PEM block PRIVATE KEY',
    );
  });

  it("reads Chains' test/testdata/cosign.key (N=32768) and rejects a wrong password", async () => {
    // The password of Chains' public throwaway key is not published with it; this checks the format
    // and parameters are accepted (a KDF/format problem would give a different message).
    const err = await rejection(
      loadCosignKey(fixture('chains-testdata-cosign.key'), Buffer.from('not-it'), ref('cosign.key')),
    );
    expect(err.message).toBe('Secret provenance-observer/signing-secrets key cosign.key: wrong password');
    expect(loadPublicKey(fixture('chains-testdata-cosign.pub'), ref('cosign.pub')).algorithm).toBe(
      'ecdsa-p256-sha256',
    );
  });
});

describe('loadX509Pem', () => {
  function certChain(): { keyPem: string; leafPem: string; caPem: string } {
    const dir = tempDir();
    const f = (n: string) => join(dir, n);
    const run = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
    run('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', f('ca.key'));
    run(
      'req',
      '-x509',
      '-new',
      '-key',
      f('ca.key'),
      '-subj',
      '/CN=throwaway test CA',
      '-days',
      '1',
      '-out',
      f('ca.pem'),
    );
    run('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', f('leaf.key'));
    run('req', '-new', '-key', f('leaf.key'), '-subj', '/CN=throwaway signer', '-out', f('leaf.csr'));
    run(
      'x509',
      '-req',
      '-in',
      f('leaf.csr'),
      '-CA',
      f('ca.pem'),
      '-CAkey',
      f('ca.key'),
      '-days',
      '1',
      '-out',
      f('leaf.pem'),
    );
    return {
      keyPem: readFileSync(f('leaf.key'), 'utf8'),
      leafPem: readFileSync(f('leaf.pem'), 'utf8'),
      caPem: readFileSync(f('ca.pem'), 'utf8'),
    };
  }

  it('loads a bare PKCS#8 key', async () => {
    const { privateKey, publicKey } = generateKey('p256');
    const signer = loadX509Pem(Buffer.from(pkcs8Pem(privateKey)), ref('x509.pem'));
    expect(signer.keyId).toBe(keyIdOf(publicKey));
    expect(await signer.sign(Buffer.from('x'))).not.toHaveProperty('certificatePem');
  });

  it('puts the certificate and chain that follow the key on every signature', async () => {
    const { keyPem, leafPem, caPem } = certChain();
    const signer = loadX509Pem(Buffer.from(`${keyPem}${leafPem}${caPem}`), ref('x509.pem'));
    const result = await signer.sign(Buffer.from('x'));
    expect(result.certificatePem?.trim()).toBe(leafPem.trim());
    expect(result.chainPem?.trim()).toBe(caPem.trim());
    expect(verify('sha256', Buffer.from('x'), createPublicKey(leafPem), result.signature)).toBe(true);
  });

  it('rejects a certificate for another key', async () => {
    const { leafPem } = certChain();
    const other = pkcs8Pem(generateKey('p256').privateKey);
    const err = await rejection(() => loadX509Pem(Buffer.from(`${other}${leafPem}`), ref('x509.pem')));
    expect(err.message).toBe(
      'Secret provenance-observer/signing-secrets key x509.pem: certificate does not match the private key',
    );
  });

  it('signs P-384 with SHA-256 as Chains’ x509 signer does', async () => {
    const { privateKey, publicKey } = generateKey('p384');
    const signer = loadX509Pem(Buffer.from(pkcs8Pem(privateKey)), ref('x509.pem'));
    expect(signer.algorithm).toBe('ecdsa-p384-sha256');
    const { signature } = await signer.sign(Buffer.from('x'));
    expect(verify('sha256', Buffer.from('x'), publicKey, signature)).toBe(true);
  });

  it('rejects encrypted or unsupported keys', async () => {
    const dir = tempDir();
    execFileSync('openssl', ['genpkey', '-algorithm', 'ed448', '-out', join(dir, 'ed448.pem')]);
    const ed448 = readFileSync(join(dir, 'ed448.pem'));
    expect((await rejection(() => loadX509Pem(ed448, ref('x509.pem')))).message).toContain(
      'unsupported key type ed448',
    );
    const k1 = generateKey('p256').privateKey.export({ format: 'pem', type: 'sec1' }).toString();
    expect((await rejection(() => loadX509Pem(Buffer.from(k1), ref('x509.pem')))).message).toContain(
      'first PEM block is EC PRIVATE KEY',
    );
    const secp256k1 = execFileSync('openssl', [
      'genpkey',
      '-algorithm',
      'EC',
      '-pkeyopt',
      'ec_paramgen_curve:secp256k1',
    ]);
    expect((await rejection(() => loadX509Pem(secp256k1, ref('x509.pem')))).message).toContain(
      'unsupported ECDSA curve secp256k1',
    );
    expect((await rejection(() => loadX509Pem(Buffer.from('garbage'), ref('x509.pem')))).message).toContain(
      'no PEM block',
    );
  });
});
