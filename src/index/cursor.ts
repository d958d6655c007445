/**
 * Keyset cursors for newest-first listings ordered by (createdAt desc, id desc). A cursor names
 * the last item of the previous page, so pages stay stable while new rows arrive. It is opaque to
 * clients: base64url of `<createdAt ms>.<id>`. A cursor that does not decode is bad input.
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
