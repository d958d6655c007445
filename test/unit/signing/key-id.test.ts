import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keyIdOf } from '../../../src/signing/index.ts';
import { debianPython, generateKey, KEY_KINDS, spkiPem, tempDir } from './keys.ts';

/** ssh-keygen's fingerprint of a PKIX public key PEM, converted without our code. */
function sshKeygenFingerprint(pubPem: string, kind: string): string {
  const dir = tempDir();
  const pemPath = join(dir, 'pub.pem');
  writeFileSync(pemPath, pubPem);
  // ssh-keygen -i cannot import Ed25519 PKCS#8; python3-cryptography writes the OpenSSH line instead.
  const opensshLine =
    kind === 'ed25519'
      ? execFileSync(debianPython(), [
          '-c',
          'import sys; from cryptography.hazmat.primitives import serialization as s; k=s.load_pem_public_key(open(sys.argv[1],"rb").read()); sys.stdout.write(k.public_bytes(s.Encoding.OpenSSH, s.PublicFormat.OpenSSH).decode())',
          pemPath,
        ])
      : execFileSync('ssh-keygen', ['-i', '-m', 'PKCS8', '-f', pemPath]);
  const out = execFileSync('ssh-keygen', ['-lf', '-'], { input: opensshLine, encoding: 'utf8' });
  const fp = out.split(' ')[1];
  if (!fp?.startsWith('SHA256:')) throw new Error(`unexpected ssh-keygen output: ${out}`);
  return fp;
}

describe('keyIdOf', () => {
  for (const kind of KEY_KINDS) {
    it(`matches ssh-keygen -lf for ${kind}`, () => {
      const { publicKey } = generateKey(kind);
      const expected = sshKeygenFingerprint(spkiPem(publicKey), kind);
      expect(keyIdOf(publicKey)).toBe(expected);
    });
  }

  it('differs between keys and is stable for one key', () => {
    const a = generateKey('p256').publicKey;
    const b = generateKey('p256').publicKey;
    expect(keyIdOf(a)).toBe(keyIdOf(a));
    expect(keyIdOf(a)).not.toBe(keyIdOf(b));
    expect(keyIdOf(a)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });
});
