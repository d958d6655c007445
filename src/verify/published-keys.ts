import { createPublicKey, type KeyObject } from 'node:crypto';
import type { PublicKeyInfo } from '../signing/index.ts';
import { verifySignature } from './envelope.ts';

/**
 * A `(message, signature) => boolean` that accepts a signature made by any key the observer
 * publishes (current and retired; OciBackend's `verifies`). `keys` is read on every call so a
 * rotation applies at once; parsed keys are reused while it returns the same array. Keyless
 * signatures (ephemeral keys) are not published and never verify here.
 */
export function publishedKeyVerifier(keys: () => readonly PublicKeyInfo[]): KeyedVerifier {
  let parsedFrom: readonly PublicKeyInfo[] | undefined;
  let parsed: { keyId: string; key: KeyObject }[] = [];
  const keyIdOf = (message: Uint8Array, signature: Uint8Array): string | undefined => {
    const current = keys();
    if (current !== parsedFrom) {
      parsed = current.flatMap((k) => {
        try {
          return [{ keyId: k.keyId, key: createPublicKey(k.publicKeyPem) }];
        } catch {
          return [];
        }
      });
      parsedFrom = current;
    }
    return parsed.find(({ key }) => verifySignature(message, signature, key))?.keyId;
  };
  return Object.assign(
    (message: Uint8Array, signature: Uint8Array) => keyIdOf(message, signature) !== undefined,
    {
      keyIdOf,
    },
  );
}

/** A verifier that can also say which published key verified a signature (its keyId). */
export type KeyedVerifier = ((message: Uint8Array, signature: Uint8Array) => boolean) & {
  keyIdOf(message: Uint8Array, signature: Uint8Array): string | undefined;
};

/**
 * publishedKeyVerifier over the platform's keys, whose optional third argument names a tenant key
 * set (`signing.tenant-keys`): then only that tenant's published keys count. A platform signature
 * never stands for a tenant's, nor one tenant's for another's. `keyIdOf` answers for the platform.
 */
export function scopedKeyVerifier(
  platform: () => readonly PublicKeyInfo[],
  tenant: (name: string) => readonly PublicKeyInfo[],
): ScopedVerifier {
  const own = publishedKeyVerifier(platform);
  const tenants = new Map<string, KeyedVerifier>();
  const verifies = (message: Uint8Array, signature: Uint8Array, signedBy?: string): boolean => {
    if (signedBy === undefined) return own(message, signature);
    const v = tenants.get(signedBy) ?? publishedKeyVerifier(() => tenant(signedBy));
    tenants.set(signedBy, v);
    return v(message, signature);
  };
  return Object.assign(verifies, { keyIdOf: own.keyIdOf });
}

/** A KeyedVerifier that can be asked about a tenant's keys instead of the platform's. */
export type ScopedVerifier = ((message: Uint8Array, signature: Uint8Array, signedBy?: string) => boolean) & {
  keyIdOf(message: Uint8Array, signature: Uint8Array): string | undefined;
};
