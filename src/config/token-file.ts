import { readFileSync } from 'node:fs';

/** How long a token read from a file is used before the file is read again (default). */
export const TOKEN_FILE_MAX_AGE_MS = 60_000;

/**
 * A bearer token kept in a file that is replaced as it rotates (the projected service-account
 * token, refreshed by the kubelet well before it expires; a kubeconfig `tokenFile`). The file is
 * read at first use and again once the copy is older than `maxAgeMs`. A failed re-read keeps the
 * last token (the kubelet swaps the file by a symlink rename; a read may race it), and a failed
 * first read throws, naming the file.
 */
export function tokenFromFile(
  path: string,
  options: { maxAgeMs?: number; now?: () => number } = {},
): () => string {
  const maxAgeMs = options.maxAgeMs ?? TOKEN_FILE_MAX_AGE_MS;
  const now = options.now ?? Date.now;
  let token: string | undefined;
  let readAt = 0;
  return () => {
    if (token !== undefined && now() - readAt < maxAgeMs) return token;
    try {
      token = readFileSync(path, 'utf8').trim();
      readAt = now();
    } catch (err) {
      if (token === undefined) throw new Error(`reading token file ${path}: ${(err as Error).message}`);
    }
    return token;
  };
}
