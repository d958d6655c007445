/**
 * The signing role. A Signer holds one private key (or obtains an ephemeral certified one) and
 * signs bytes with the hash and encoding cosign uses for that key type, so that cosign, Conforma
 * and openssl verify what it signs. It never exposes the private key.
 */

/**
 * Key type and signature scheme, named the way cosign treats each key type. The `-sha256` variants
 * of P-384/P-521 are what Chains' x509.pem signer uses (SHA-256 for every curve); the curve-matched
 * hashes are cosign's defaults for cosign.key. docs/keys.md explains which verifier accepts which.
 */
export type KeyAlgorithm =
  | 'ecdsa-p256-sha256'
  | 'ecdsa-p384-sha384'
  | 'ecdsa-p521-sha512'
  | 'ecdsa-p384-sha256'
  | 'ecdsa-p521-sha256'
  | 'ed25519'
  | 'rsa-pkcs1v15-sha256'
  /** RSA-PSS, SHA-256, MGF1-SHA-256, salt 32: only from a PKCS#11 key with x-rsa-scheme=pss */
  | 'rsa-pss-sha256';

/** What one signature produced: the signature, plus the certificate when the key is certified. */
export interface SignatureResult {
  /** DER for ECDSA, raw 64 bytes for Ed25519, PKCS#1 v1.5 (or PSS) for RSA. */
  signature: Uint8Array;
  /** PEM leaf certificate (x509.pem with a certificate, or keyless Fulcio). */
  certificatePem?: string;
  /** PEM chain above the leaf. */
  chainPem?: string;
  /**
   * Key id of the key that made this signature (Chains' SSH fingerprint). Record this one, not
   * `Signer.keyId`: a keyless signer uses a fresh ephemeral key for every signature.
   */
  keyId: string;
  /** PKIX PEM of the public key that verifies this signature. */
  publicKeyPem: string;
}

export interface Signer {
  /**
   * Stable key id; Chains' SSH SHA-256 fingerprint of the public key ("SHA256:…"). '' for keyless,
   * which has no stable key: each SignatureResult names its own.
   */
  readonly keyId: string;
  readonly algorithm: KeyAlgorithm;
  /** PKIX "PUBLIC KEY" PEM of the stable key ('' for keyless). */
  readonly publicKeyPem: string;
  /**
   * The stable key's leaf certificate and chain (x509.pem with a certificate), the ones every
   * signature carries; unset for keyless (per signature) and for a bare key.
   */
  readonly certificatePem?: string;
  readonly chainPem?: string;
  sign(data: Uint8Array): Promise<SignatureResult>;
}

/** A DSSE envelope as JSON. https://github.com/secure-systems-lab/dsse/blob/master/envelope.md */
export interface DsseEnvelope {
  payloadType: string;
  /** standard base64 of the payload bytes */
  payload: string;
  signatures: { keyid?: string; sig: string }[];
}

/** A public key the observer publishes (GET /api/v1/keys), current or retired. */
export interface PublicKeyInfo {
  keyId: string;
  algorithm: KeyAlgorithm;
  publicKeyPem: string;
  /** true for the key that signs now; retired keys stay published for verifying old attestations */
  active: boolean;
}
