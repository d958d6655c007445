import type { KeyAlgorithm } from '../../../src/signing/index.ts';
import type { KeyKind } from './keys.ts';

/** The algorithm cosign's defaults give each test key kind. */
export function algorithmFor(kind: KeyKind): KeyAlgorithm {
  const table: Record<KeyKind, KeyAlgorithm> = {
    p256: 'ecdsa-p256-sha256',
    p384: 'ecdsa-p384-sha384',
    p521: 'ecdsa-p521-sha512',
    ed25519: 'ed25519',
    rsa2048: 'rsa-pkcs1v15-sha256',
  };
  return table[kind];
}
