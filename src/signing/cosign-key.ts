import { type ScryptOptions, scrypt as scryptCallback } from 'node:crypto';
import nacl from 'tweetnacl';

/**
 * Decrypts a cosign / sigstore encrypted private key to its PKCS#8 DER.
 *
 * Format (go-securesystemslib `encrypted`, cosign `pkg/cosign/keys.go`): PEM `ENCRYPTED SIGSTORE
 * PRIVATE KEY` or `ENCRYPTED COSIGN PRIVATE KEY` whose body is JSON
 * `{kdf:{name:"scrypt",params:{N,r,p},salt}, cipher:{name:"nacl/secretbox",nonce}, ciphertext}`;
 * key = scrypt(password, salt, N, r, p, 32); plaintext = NaCl secretbox open.
 *
 * Only the parameter sets go-securesystemslib accepts are allowed: N ∈ {32768, 65536, 131072},
 * r = 8, p = 1 (anything else could make us burn unbounded memory/CPU on a hostile Secret).
 * The password is used byte for byte (cosign does not trim it).
 *
 * Fails with CosignKeyError whose `reason` is safe to show (never key or password bytes).
 */
export const COSIGN_PEM_LABELS = ['ENCRYPTED SIGSTORE PRIVATE KEY', 'ENCRYPTED COSIGN PRIVATE KEY'];
export const ALLOWED_SCRYPT_N = [32768, 65536, 131072];

export type CosignKeyProblem = 'corrupt' | 'unsupported_kdf' | 'wrong_password';

export class CosignKeyError extends Error {
  readonly problem: CosignKeyProblem;
  constructor(problem: CosignKeyProblem, reason: string) {
    super(reason);
    this.name = 'CosignKeyError';
    this.problem = problem;
  }
}

interface EncryptedKey {
  kdf: { name: string; params: { N: number; r: number; p: number }; salt: string };
  cipher: { name: string; nonce: string };
  ciphertext: string;
}

export async function decryptCosignKey(pemBody: Buffer, password: Uint8Array): Promise<Buffer> {
  const box = parseEncryptedKey(pemBody);
  const { N, r, p } = box.kdf.params;
  const salt = Buffer.from(box.kdf.salt, 'base64');
  const nonce = Buffer.from(box.cipher.nonce, 'base64');
  const ciphertext = Buffer.from(box.ciphertext, 'base64');
  if (nonce.length !== nacl.secretbox.nonceLength)
    throw new CosignKeyError('corrupt', 'nonce is not 24 bytes');
  if (ciphertext.length <= nacl.secretbox.overheadLength)
    throw new CosignKeyError('corrupt', 'ciphertext too short');
  // Async: scrypt with N=131072 takes ~0.5 s and must not block the event loop.
  const key = await scrypt(Buffer.from(password), salt, 32, { N, r, p, maxmem: 256 * N * r });
  const plain = nacl.secretbox.open(ciphertext, nonce, key);
  if (!plain) throw new CosignKeyError('wrong_password', 'wrong password');
  return Buffer.from(plain);
}

function scrypt(password: Buffer, salt: Buffer, len: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scryptCallback(password, salt, len, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

function parseEncryptedKey(pemBody: Buffer): EncryptedKey {
  let json: unknown;
  try {
    json = JSON.parse(pemBody.toString('utf8'));
  } catch {
    throw new CosignKeyError('corrupt', 'encrypted key body is not JSON');
  }
  const box = json as Partial<EncryptedKey> | null;
  const kdf = box?.kdf;
  const params = kdf?.params;
  if (!box || !kdf || !params || !box.cipher || typeof box.ciphertext !== 'string') {
    throw new CosignKeyError('corrupt', 'encrypted key JSON lacks kdf, cipher or ciphertext');
  }
  if (typeof kdf.salt !== 'string' || typeof box.cipher.nonce !== 'string') {
    throw new CosignKeyError('corrupt', 'encrypted key JSON lacks salt or nonce');
  }
  if (kdf.name !== 'scrypt')
    throw new CosignKeyError('unsupported_kdf', `unsupported KDF ${String(kdf.name)}`);
  if (!ALLOWED_SCRYPT_N.includes(params.N) || params.r !== 8 || params.p !== 1) {
    throw new CosignKeyError(
      'unsupported_kdf',
      `unsupported scrypt parameters N=${params.N} r=${params.r} p=${params.p} (allowed: N ∈ {${ALLOWED_SCRYPT_N.join(', ')}}, r=8, p=1)`,
    );
  }
  if (box.cipher.name !== 'nacl/secretbox') {
    throw new CosignKeyError('unsupported_kdf', `unsupported cipher ${String(box.cipher.name)}`);
  }
  return box as EncryptedKey;
}
