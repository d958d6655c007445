import { createPublicKey, type KeyObject, sign } from 'node:crypto';
import { schemeParams } from './algorithm.ts';
import { keyIdOf } from './key-id.ts';
import type { KeyAlgorithm, SignatureResult, Signer } from './signer.ts';

export interface KeySignerOptions {
  /** private key; must match `algorithm` (the loaders guarantee it) */
  privateKey: KeyObject;
  algorithm: KeyAlgorithm;
  /** leaf certificate for the key (x509.pem), copied onto every signature */
  certificatePem?: string;
  /** chain above the leaf (x509.pem) */
  chainPem?: string;
}

/**
 * A Signer over one long-lived private key (x509.pem or cosign.key). Signatures: ECDSA DER with
 * the algorithm's hash, Ed25519 pure (64 bytes), RSA PKCS#1 v1.5 SHA-256. The key stays inside
 * the KeyObject; nothing here exports private material.
 */
export class KeySigner implements Signer {
  readonly keyId: string;
  readonly algorithm: KeyAlgorithm;
  readonly publicKeyPem: string;
  readonly #privateKey: KeyObject;
  readonly #digest: string | null;
  readonly certificatePem?: string;
  readonly chainPem?: string;

  constructor(options: KeySignerOptions) {
    const publicKey = createPublicKey(options.privateKey);
    this.#privateKey = options.privateKey;
    this.algorithm = options.algorithm;
    this.#digest = schemeParams(options.algorithm).digest;
    this.keyId = keyIdOf(publicKey);
    this.publicKeyPem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
    this.certificatePem = options.certificatePem;
    this.chainPem = options.chainPem;
  }

  async sign(data: Uint8Array): Promise<SignatureResult> {
    return this.signSync(data);
  }

  /** Same as sign(), synchronously (sub-millisecond for ECDSA/Ed25519; used by the bench). */
  signSync(data: Uint8Array): SignatureResult {
    const signature = new Uint8Array(sign(this.#digest, data, this.#privateKey));
    const result: SignatureResult = { signature, keyId: this.keyId, publicKeyPem: this.publicKeyPem };
    if (this.certificatePem) result.certificatePem = this.certificatePem;
    if (this.chainPem) result.chainPem = this.chainPem;
    return result;
  }
}
