import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Test key material (THROWAWAY, generated per run). */
export type KeyKind = 'p256' | 'p384' | 'p521' | 'ed25519' | 'rsa2048';
export const KEY_KINDS: KeyKind[] = ['p256', 'p384', 'p521', 'ed25519', 'rsa2048'];

export function generateKey(kind: KeyKind): { privateKey: KeyObject; publicKey: KeyObject } {
  switch (kind) {
    case 'p256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' });
    case 'p384':
      return generateKeyPairSync('ec', { namedCurve: 'P-384' });
    case 'p521':
      return generateKeyPairSync('ec', { namedCurve: 'P-521' });
    case 'ed25519':
      return generateKeyPairSync('ed25519');
    case 'rsa2048':
      return generateKeyPairSync('rsa', { modulusLength: 2048 });
  }
}

export function pkcs8Pem(key: KeyObject): string {
  return key.export({ format: 'pem', type: 'pkcs8' }).toString();
}

export function spkiPem(key: KeyObject): string {
  return key.export({ format: 'pem', type: 'spki' }).toString();
}

/** Debian's python3 (not a pyenv one on PATH), which has python3-nacl and python3-cryptography. */
export function debianPython(): string {
  const list = execFileSync('dpkg', ['-L', 'python3-minimal'], { encoding: 'utf8' });
  const path = list.split('\n').find((l) => l.endsWith('/bin/python3'));
  if (!path) throw new Error('python3-minimal is not installed (apt-get install python3-minimal)');
  return path;
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'signing-test-'));
}

/** Encrypts a PKCS#8 key into cosign's format with the independent Python implementation. */
export function pythonCosignKey(
  privateKey: KeyObject,
  password: Uint8Array,
  n: number,
  label?: string,
): Buffer {
  const dir = tempDir();
  writeFileSync(join(dir, 'key.pem'), pkcs8Pem(privateKey));
  writeFileSync(join(dir, 'password'), password);
  const args = [
    join(import.meta.dirname, 'cosign-encrypt.py'),
    join(dir, 'key.pem'),
    join(dir, 'password'),
    String(n),
  ];
  return execFileSync(debianPython(), label ? [...args, label] : args, { maxBuffer: 1 << 20 });
}

export function fixture(name: string): Buffer {
  return readFileSync(join(import.meta.dirname, '../../fixtures/keys', name));
}
