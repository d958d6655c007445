import { createPublicKey, type KeyObject } from 'node:crypto';
import type { PublicKeyInfo } from '../signing/index.ts';
import { verifySignature } from './envelope.ts';

/**
 * A `(message, signature) => boolean` that accepts a signature made by any key the observer
 * publishes (current and retired; OciBackend's `verifies`). `keys` is read on every call so a
 * rotation applies at once; parsed keys are reused while it returns the same array. Keyless
 * signatures (ephemeral keys) are not published and never verify here.
 */
export function publishedKeyVerifier(
  keys: () => readonly PublicKeyInfo[],
): (message: Uint8Array, signature: Uint8Array) => boolean {
  let parsedFrom: readonly PublicKeyInfo[] | undefined;
  let parsed: KeyObject[] = [];
  return (message, signature) => {
    const current = keys();
    if (current !== parsedFrom) {
      parsed = current.flatMap((k) => {
        try {
          return [createPublicKey(k.publicKeyPem)];
        } catch {
          return [];
        }
      });
      parsedFrom = current;
    }
    return parsed.some((key) => verifySignature(message, signature, key));
  };
}
