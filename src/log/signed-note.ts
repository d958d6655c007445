import { createHash, createPublicKey, type KeyObject, verify } from 'node:crypto';

/**
 * C2SP signed notes (https://c2sp.org/signed-note): text ending in a newline, a blank line, then
 * lines `— <key name> base64(4-byte key id || signature)`. Two signature types are supported:
 *   0x01 Ed25519 over the note text; key id = SHA-256(name || 0x0A || 0x01 || 32-byte key)[:4];
 *   0x02 ECDSA P-256 with SHA-256 (ASN.1 DER signature) over the note text, as
 *        transparency-dev/witness implements it; key id = SHA-256(SPKI DER of the key)[:4].
 * Other key types cannot sign notes (a clear error names the key's type).
 */
export type NoteKeyType = 'ed25519' | 'ecdsa-p256';

export interface NoteKey {
  name: string;
  type: NoteKeyType;
  /** 4 bytes */
  id: Buffer;
  publicKey: KeyObject;
}

const DASH = '\u2014';

export function noteKeyOf(name: string, publicKeyPem: string): NoteKey {
  if (!name || /[\s+]/u.test(name))
    throw new Error(`note key name ${JSON.stringify(name)} is empty or holds a space or '+'`);
  const publicKey = createPublicKey(publicKeyPem);
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  if (publicKey.asymmetricKeyType === 'ed25519') {
    const raw = spki.subarray(spki.length - 32);
    const id = createHash('sha256')
      .update(`${name}\n`)
      .update(Buffer.of(1))
      .update(raw)
      .digest()
      .subarray(0, 4);
    return { name, type: 'ed25519', id, publicKey };
  }
  if (publicKey.asymmetricKeyType === 'ec' && publicKey.asymmetricKeyDetails?.namedCurve === 'prime256v1')
    return {
      name,
      type: 'ecdsa-p256',
      id: createHash('sha256').update(spki).digest().subarray(0, 4),
      publicKey,
    };
  throw new Error(
    `a ${publicKey.asymmetricKeyType ?? 'unknown'} key cannot sign checkpoints: use an Ed25519 or ECDSA P-256 key`,
  );
}

/** The signature line for `text` signed (by the caller's key) as `signature`. */
export function signatureLine(key: NoteKey, signature: Uint8Array): string {
  return `${DASH} ${key.name} ${Buffer.concat([key.id, signature]).toString('base64')}\n`;
}

export function assembleNote(text: string, lines: readonly string[]): string {
  if (!text.endsWith('\n')) throw new Error('note text must end in a newline');
  return `${text}\n${lines.join('')}`;
}

/**
 * The note's text when a signature by one of `keys` verifies; a reason otherwise. Signatures of
 * unknown keys are ignored; one of a known key that fails rejects the whole note (as the spec
 * advises).
 */
export function openNote(note: string, keys: readonly NoteKey[]): { text: string } | { error: string } {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the spec forbids control characters
  if (/[\u0000-\u0009\u000b-\u001f]/u.test(note)) return { error: 'the note holds control characters' };
  const split = note.lastIndexOf('\n\n');
  if (split < 0 || !note.endsWith('\n')) return { error: 'no blank line before the signatures' };
  const text = note.slice(0, split + 1);
  const lines = note.slice(split + 2, -1).split('\n');
  let verified = false;
  for (const line of lines) {
    const m = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/u.exec(line);
    if (!m) return { error: `malformed signature line ${JSON.stringify(line)}` };
    const blob = Buffer.from(m[2] as string, 'base64');
    const key = keys.find((k) => k.name === m[1] && blob.length > 4 && k.id.equals(blob.subarray(0, 4)));
    if (!key) continue;
    const digest = key.type === 'ed25519' ? null : 'sha256';
    if (!verify(digest, Buffer.from(text), key.publicKey, blob.subarray(4)))
      return { error: `the signature of ${key.name} does not verify` };
    verified = true;
  }
  return verified ? { text } : { error: 'no signature by a known key' };
}
