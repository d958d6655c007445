export { type HashPolicy, schemeParams } from './algorithm.ts';
export { ALLOWED_SCRYPT_N, COSIGN_PEM_LABELS } from './cosign-key.ts';
export { envelopeOf, pae, type SignedEnvelope, signEnvelope, signEnvelopeBy, signRaw } from './dsse.ts';
export { keyIdOf, sshWireEncoding } from './key-id.ts';
export { type KeyEntryRef, loadCosignKey, loadPublicKey, loadX509Pem } from './key-loader.ts';
export { type KeyRing, type KeySource, loadKeyRing } from './key-ring.ts';
export { KeySigner, type KeySignerOptions } from './key-signer.ts';
export { newPkcs11Api, type Pkcs11Api } from './pkcs11/pkcs11-binding.ts';
export { ecdsaRawToDer } from './pkcs11/pkcs11-mechanism.ts';
export {
  Pkcs11Key,
  type Pkcs11KeyInfo,
  type Pkcs11KeyOptions,
  Pkcs11Signer,
} from './pkcs11/pkcs11-signer.ts';
export { describeKey, type Pkcs11Uri, Pkcs11UriError, parsePkcs11Uri } from './pkcs11/pkcs11-uri.ts';
export type { DsseEnvelope, KeyAlgorithm, PublicKeyInfo, SignatureResult, Signer } from './signer.ts';
export {
  DEFAULT_OIDC_TOKEN_PATH,
  identityTokenPath,
  pkcs11PoolSize,
  type SigningConfig,
} from './signing-config.ts';
export { createSigningSource, type SigningSource, type SigningSourceOptions } from './signing-source.ts';
// KeylessSigner and RekorTransparencyLog load @sigstore/sign: reached through lazy-sigstore.ts only
export type { KeylessSignerOptions } from './sigstore/keyless-signer.ts';
export { LazyKeylessSigner, LazyTransparencyLog } from './sigstore/lazy-sigstore.ts';
export type { RekorTransparencyLogOptions } from './sigstore/rekor-transparency-log.ts';
export { type SigstoreBundleOptions, toSigstoreBundle } from './sigstore/sigstore-bundle.ts';
export {
  type CosignRekorBundle,
  type FoundEnvelope,
  shouldUpload,
  type TransparencyEntry,
  type TransparencyLog,
  type TransparencyMode,
} from './sigstore/transparency-log.ts';
export {
  NO_TENANT_KEYS,
  parseTenantKeyRules,
  type TenantKeyRule,
  type TenantKeyRules,
  tenantOf,
} from './tenant/tenant-key-rules.ts';
export { type TenantKeySource, TenantKeys, type TenantSigner } from './tenant/tenant-keys.ts';
