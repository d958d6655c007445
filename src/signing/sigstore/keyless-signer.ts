import { X509Certificate } from 'node:crypto';
import { FulcioSigner, InternalError } from '@sigstore/sign';
import { ObserverError } from '../../errors.ts';
import { keyIdOf } from '../key-id.ts';
import type { KeyAlgorithm, SignatureResult, Signer } from '../signer.ts';

export interface KeylessSignerOptions {
  /** Fulcio base URL (Chains `signers.x509.fulcio.address`, default https://fulcio.sigstore.dev) */
  fulcioUrl: string;
  /**
   * Returns the OIDC token to exchange; called once per signature, because projected
   * ServiceAccount tokens rotate (the composition root reads the token file each time).
   */
  identityToken: () => Promise<string>;
  /** per-request timeout in ms (make-fetch-happen); default @sigstore/sign's */
  timeoutMs?: number;
  /** retries per request; default @sigstore/sign's */
  retry?: number;
}

/**
 * Keyless signing as Chains does it: a fresh ephemeral ECDSA P-256 key for every signature,
 * certified by Fulcio for the OIDC identity (@sigstore/sign FulcioSigner). Each signature carries
 * the leaf certificate and, in `keyId`/`publicKeyPem`, its own ephemeral key. The Signer's own
 * `keyId`/`publicKeyPem` stay '': with concurrent workers "the last signature's key" would name
 * another run's key.
 *
 * Fails with ObserverError 'signing' (retryable): Fulcio unreachable, token unreadable or
 * rejected. Messages carry @sigstore/sign's error code only: its messages can contain the token.
 */
export class KeylessSigner implements Signer {
  readonly algorithm: KeyAlgorithm = 'ecdsa-p256-sha256';
  readonly keyId = '';
  readonly publicKeyPem = '';
  readonly #options: KeylessSignerOptions;

  constructor(options: KeylessSignerOptions) {
    this.#options = options;
  }

  async sign(data: Uint8Array): Promise<SignatureResult> {
    const { fulcioUrl, identityToken, timeoutMs, retry } = this.#options;
    // A new FulcioSigner per call: its default key holder is one ephemeral key per instance.
    const fulcio = new FulcioSigner({
      fulcioBaseURL: fulcioUrl,
      identityProvider: { getToken: identityToken },
      ...(timeoutMs !== undefined ? { timeout: timeoutMs } : {}),
      ...(retry !== undefined ? { retry } : {}),
    });
    let result: Awaited<ReturnType<FulcioSigner['sign']>>;
    try {
      result = await fulcio.sign(Buffer.from(data));
    } catch (err) {
      const code = err instanceof InternalError ? err.code : 'UNKNOWN';
      throw new ObserverError(`keyless signing with Fulcio ${fulcioUrl}: ${code}`, {
        code: 'signing',
        retryable: true,
      });
    }
    if (result.key.$case !== 'x509Certificate') {
      throw new ObserverError(`keyless signing with Fulcio ${fulcioUrl}: no certificate returned`, {
        code: 'signing',
        retryable: true,
      });
    }
    const certificatePem = result.key.certificate;
    const publicKey = new X509Certificate(certificatePem).publicKey;
    const keyId = keyIdOf(publicKey);
    const publicKeyPem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
    return { signature: new Uint8Array(result.signature), certificatePem, keyId, publicKeyPem };
  }
}
