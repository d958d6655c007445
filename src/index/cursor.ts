import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Keyset cursors for newest-first listings ordered by (createdAt desc, id desc). A cursor names
 * the last item of the previous page, so pages stay stable while new rows arrive.
 *
 * Two layers. The index's own cursor (encodeCursor) is base64url of `<createdAt ms>.<id>`: a
 * position, readable by anyone who decodes it. Cursors that leave the process are sealed by
 * CursorSealer, so clients see opaque tokens whose alteration is detected.
 */
export interface CursorPosition {
  createdAt: number;
  id: string;
}

export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(`${position.createdAt}.${position.id}`, 'utf8').toString('base64url');
}

/** Returns undefined for anything that is not a cursor this module wrote. */
export function decodeCursor(cursor: string): CursorPosition | undefined {
  if (!/^[A-Za-z0-9_-]{1,512}$/.test(cursor)) return undefined;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const match = /^(\d{1,16})\.([a-f0-9]{64})$/.exec(text);
  if (!match) return undefined;
  return { createdAt: Number(match[1]), id: match[2] };
}

const VERSION = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** Smallest key file we accept: 256 bits of secret. */
export const MIN_CURSOR_SECRET_BYTES = 32;

export interface CursorSealerOptions {
  /**
   * Secret the sealing key is derived from (HKDF-SHA256), at least 32 bytes. Replicas that serve
   * the same clients must share it (mount it from a Secret); default: 32 random bytes per process,
   * so cursors stop working when the process restarts (the client gets 400 and starts again).
   */
  secret?: Uint8Array;
}

/**
 * Seals an inner cursor with AES-256-GCM: the result is opaque (the position inside is encrypted)
 * and integrity-protected (the GCM tag covers it and `context`, e.g. the listing's digest, so a
 * cursor of one listing is refused on another). `open` answers undefined for anything this sealer
 * did not seal with the same context: forged, altered, truncated, or sealed under another key.
 */
export class CursorSealer {
  readonly #key: Buffer;

  constructor(options: CursorSealerOptions = {}) {
    const secret = options.secret ?? randomBytes(32);
    if (secret.length < MIN_CURSOR_SECRET_BYTES)
      throw new RangeError(`cursor secret must be at least ${MIN_CURSOR_SECRET_BYTES} bytes`);
    this.#key = Buffer.from(hkdfSync('sha256', secret, '', 'provenance-observer page cursor v1', 32));
  }

  seal(inner: string, context: string): string {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(`${VERSION}\0${context}`, 'utf8'));
    const body = Buffer.concat([cipher.update(inner, 'utf8'), cipher.final()]);
    return Buffer.concat([Buffer.of(VERSION), nonce, cipher.getAuthTag(), body]).toString('base64url');
  }

  open(sealed: string, context: string): string | undefined {
    if (!/^[A-Za-z0-9_-]{1,1024}$/.test(sealed)) return undefined;
    const raw = Buffer.from(sealed, 'base64url');
    if (raw.length <= 1 + NONCE_BYTES + TAG_BYTES || raw[0] !== VERSION) return undefined;
    const nonce = raw.subarray(1, 1 + NONCE_BYTES);
    const tag = raw.subarray(1 + NONCE_BYTES, 1 + NONCE_BYTES + TAG_BYTES);
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, nonce, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(`${VERSION}\0${context}`, 'utf8'));
      decipher.setAuthTag(tag);
      const body = raw.subarray(1 + NONCE_BYTES + TAG_BYTES);
      return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
    } catch {
      return undefined; // the tag does not match: not ours, or altered
    }
  }
}
