/**
 * The one error type of the service. Every failure carries a code (what went wrong, stable for
 * metrics and tests), whether retrying can help, and the object it concerns, so a message always
 * reads like "signing TaskRun tenant-a/build-1: …".
 *
 * Messages never contain key material or credentials: callers pass names, never secrets.
 */
export type ErrorCode =
  | 'config_invalid'
  | 'payload_creation'
  | 'marshal_payload'
  | 'signing'
  | 'key_unavailable'
  | 'storage'
  | 'tlog'
  | 'registry'
  | 'kube'
  | 'index'
  | 'input_invalid'
  | 'not_found';

export interface ObserverErrorOptions {
  code: ErrorCode;
  /** true when the same call may succeed later (network, conflict, 5xx); false for bad input. */
  retryable: boolean;
  cause?: unknown;
}

export class ObserverError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;

  constructor(message: string, options: ObserverErrorOptions) {
    super(message, { cause: options.cause });
    this.name = 'ObserverError';
    this.code = options.code;
    this.retryable = options.retryable;
  }
}

/** Wraps anything thrown into an ObserverError, keeping an existing one's code and retry decision. */
export function asObserverError(
  err: unknown,
  fallback: ObserverErrorOptions & { context: string },
): ObserverError {
  if (err instanceof ObserverError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  return new ObserverError(`${fallback.context}: ${detail}`, { ...fallback, cause: err });
}
