import { createPrivateKey, createPublicKey, type KeyObject, X509Certificate } from 'node:crypto';
import { ObserverError } from '../errors.ts';
import { algorithmOf, type HashPolicy } from './algorithm.ts';
import { COSIGN_PEM_LABELS, CosignKeyError, decryptCosignKey } from './cosign-key.ts';
import { keyIdOf } from './key-id.ts';
import { KeySigner } from './key-signer.ts';
import { pemBlocks } from './pem.ts';
import type { KeyAlgorithm, PublicKeyInfo } from './signer.ts';

/** Where a key came from, for messages: "Secret <namespace>/<name> key <entry>: …". */
export interface KeyEntryRef {
  namespace: string;
  name: string;
  entry: string;
}

/**
 * A key that cannot be used. Retryable: the Secret may be fixed and reloaded, after which the
 * same signing succeeds. The message names the Secret and entry, never key or password bytes.
 */
export function keyUnavailable(ref: KeyEntryRef, reason: string): ObserverError {
  return new ObserverError(`Secret ${ref.namespace}/${ref.name} key ${ref.entry}: ${reason}`, {
    code: 'key_unavailable',
    retryable: true,
  });
}

/**
 * `x509.pem` as Chains reads it: an unencrypted PKCS#8 `PRIVATE KEY` block, optionally followed
 * by the key's certificate and then its chain (leaf first). Any supported key type is accepted
 * (Chains accepts only ECDSA); ECDSA always signs with SHA-256 here, as Chains' x509 signer does.
 */
export function loadX509Pem(pem: Uint8Array, ref: KeyEntryRef): KeySigner {
  const blocks = pemBlocks(Buffer.from(pem).toString('utf8'));
  const first = blocks[0];
  if (!first) throw keyUnavailable(ref, 'no PEM block found');
  if (first.label !== 'PRIVATE KEY') {
    throw keyUnavailable(ref, `first PEM block is ${first.label}, want unencrypted PKCS#8 PRIVATE KEY`);
  }
  const privateKey = parsePrivateKey(first.der, ref);
  const certs = blocks.slice(1);
  const notCert = certs.find((b) => b.label !== 'CERTIFICATE');
  if (notCert) throw keyUnavailable(ref, `unexpected PEM block ${notCert.label} after the private key`);
  const leaf = certs[0];
  if (leaf) {
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(leaf.der);
    } catch {
      throw keyUnavailable(ref, 'certificate after the private key does not parse');
    }
    if (!cert.checkPrivateKey(privateKey))
      throw keyUnavailable(ref, 'certificate does not match the private key');
  }
  const chain = certs.slice(1).map((b) => b.text);
  return new KeySigner({
    privateKey,
    algorithm: supportedAlgorithm(privateKey, 'sha256', ref),
    ...(leaf ? { certificatePem: leaf.text } : {}),
    ...(chain.length > 0 ? { chainPem: chain.join('') } : {}),
  });
}

/** `cosign.key` + `cosign.password` (see cosign-key.ts); signs with cosign's default hash per key. */
export async function loadCosignKey(
  key: Uint8Array,
  password: Uint8Array,
  ref: KeyEntryRef,
): Promise<KeySigner> {
  const blocks = pemBlocks(Buffer.from(key).toString('utf8'));
  const block = blocks.find((b) => COSIGN_PEM_LABELS.includes(b.label));
  if (!block) {
    const found = blocks[0]?.label ?? 'none';
    throw keyUnavailable(
      ref,
      `not an encrypted cosign key (PEM block ${found}, want ${COSIGN_PEM_LABELS.join(' or ')})`,
    );
  }
  let der: Buffer;
  try {
    der = await decryptCosignKey(block.der, password);
  } catch (err) {
    if (err instanceof CosignKeyError) throw keyUnavailable(ref, err.message);
    throw keyUnavailable(ref, 'decryption failed');
  }
  const privateKey = parsePrivateKey(der, ref);
  return new KeySigner({ privateKey, algorithm: supportedAlgorithm(privateKey, 'cosign-default', ref) });
}

/**
 * A published (usually retired) public key: a PKIX `PUBLIC KEY` PEM such as `cosign.pub`. Its
 * algorithm follows cosign's defaults; verifyEnvelope also accepts SHA-256 for P-384/P-521.
 */
export function loadPublicKey(pem: Uint8Array, ref: KeyEntryRef, active = false): PublicKeyInfo {
  const block = pemBlocks(Buffer.from(pem).toString('utf8')).find((b) => b.label === 'PUBLIC KEY');
  if (!block) throw keyUnavailable(ref, 'no PUBLIC KEY PEM block found');
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: block.der, format: 'der', type: 'spki' });
  } catch {
    throw keyUnavailable(ref, 'corrupt public key');
  }
  const algorithm = supportedAlgorithm(publicKey, 'cosign-default', ref);
  return {
    keyId: keyIdOf(publicKey),
    algorithm,
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    active,
  };
}

function parsePrivateKey(der: Buffer, ref: KeyEntryRef): KeyObject {
  try {
    return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  } catch {
    throw keyUnavailable(ref, 'corrupt key: not a PKCS#8 private key');
  }
}

function supportedAlgorithm(key: KeyObject, policy: HashPolicy, ref: KeyEntryRef): KeyAlgorithm {
  const algorithm = algorithmOf(key, policy);
  if (typeof algorithm !== 'string') throw keyUnavailable(ref, algorithm.unsupported);
  return algorithm;
}
