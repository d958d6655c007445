import { ObserverError } from '../errors.ts';

/**
 * Whether a registry status is worth retrying: 5xx, 429 (rate limit), 408 (timeout) and
 * 409/412 (a concurrent writer) may pass; other 4xx (denied, unknown, invalid) will not.
 */
export const retryableStatus = (status: number): boolean =>
  status >= 500 || status === 429 || status === 408 || status === 409 || status === 412;

/** The registry's own error codes from an error body (`{"errors":[{"code":"…"}]}`), if any. */
async function errorCodes(res: Response): Promise<string> {
  try {
    const body = (await res.json()) as { errors?: { code?: string; message?: string }[] };
    const codes = (body.errors ?? [])
      .map((e) => [e.code, e.message].filter(Boolean).join(': '))
      .filter(Boolean);
    return codes.length ? ` (${codes.join('; ').slice(0, 300)})` : '';
  } catch {
    return '';
  }
}

/** An error for a non-success status, naming the operation and the repository, never credentials. */
export async function statusError(operation: string, target: string, res: Response): Promise<ObserverError> {
  const detail = res.status === 401 || res.status === 403 ? ' (authentication or authorization failed)' : '';
  return new ObserverError(`${operation} ${target}: HTTP ${res.status}${detail}${await errorCodes(res)}`, {
    code: 'registry',
    retryable: retryableStatus(res.status),
  });
}

/** An error for a request that got no response (refused, reset, DNS, timeout): always retryable. */
export function networkError(operation: string, target: string, cause: unknown): ObserverError {
  const c = cause as { message?: string; cause?: { code?: string; message?: string } };
  const why = c?.cause?.code ?? c?.cause?.message ?? c?.message ?? String(cause);
  return new ObserverError(`${operation} ${target}: no response (${why})`, {
    code: 'registry',
    retryable: true,
    cause,
  });
}
