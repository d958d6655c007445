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
  | 'not_found'
  /** a broken invariant of our own code (never the input's fault) */
  | 'internal';

export interface ObserverErrorOptions {
  code: ErrorCode;
  /** true when the same call may succeed later (network, conflict, 5xx); false for bad input. */
  retryable: boolean;
  cause?: unknown;
  /** a stable machine-readable reason (e.g. `registry_body_too_large`), for metrics and tenants */
  reason?: string;
  /**
   * The text tenants may see (Events, annotations, `/api/v1/runs`): no answer bodies, no foreign
   * error text. Default: the message. Set it whenever the message quotes something a peer sent.
   */
  publicMessage?: string;
  /**
   * Epoch ms before which retrying cannot help: the peer is known to be down (a registry host whose
   * circuit is open, oci/circuit-breaker.ts). A failed attempt whose every error carries one is not
   * counted against `attestation.max-attempts`; the run waits until then instead (reconciler.ts).
   */
  notBefore?: number;
}

/** The reason of an `index` error whose disk (or SQLite size cap) is full: retryable, nothing written. */
export const INDEX_DISK_FULL = 'index_disk_full';

export class ObserverError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly reason?: string;
  readonly publicMessage?: string;
  readonly notBefore?: number;

  constructor(message: string, options: ObserverErrorOptions) {
    super(message, { cause: options.cause });
    this.name = 'ObserverError';
    this.code = options.code;
    this.retryable = options.retryable;
    if (options.reason !== undefined) this.reason = options.reason;
    if (options.publicMessage !== undefined) this.publicMessage = options.publicMessage;
    if (options.notBefore !== undefined) this.notBefore = options.notBefore;
  }
}

/** The latest `notBefore` when every one of `errors` has one (each one's peer is down), else undefined. */
export function allDownUntil(errors: readonly unknown[]): number | undefined {
  const until = errors.map(notBeforeOf);
  if (until.length === 0 || until.some((u) => u === undefined)) return undefined;
  return Math.max(...(until as number[]));
}

/** The `notBefore` of an error or of the nearest cause that has one (wrappers keep the cause). */
export function notBeforeOf(err: unknown): number | undefined {
  for (let c = err, depth = 0; c && depth < 8; c = (c as Error).cause, depth++)
    if (c instanceof ObserverError && c.notBefore !== undefined) return c.notBefore;
  return undefined;
}

/**
 * What a tenant may read about an error (Events, annotations, `/api/v1/runs`): the error's
 * publicMessage; for a `registry` error without one, the publicMessage of its nearest cause that
 * has one (a retry loop wrapping the last registry failure), else only "registry error"; the
 * message of any other ObserverError (our own words). Anything else thrown is "internal error".
 * The full message goes to the observer's log only.
 */
export function tenantMessage(err: unknown): string {
  if (!(err instanceof ObserverError)) return 'internal error (details in the observer log)';
  if (err.publicMessage !== undefined) return err.publicMessage;
  if (err.code !== 'registry') return err.message;
  for (let c = err.cause, depth = 0; c && depth < 8; c = (c as Error).cause, depth++)
    if (c instanceof ObserverError && c.publicMessage !== undefined) return c.publicMessage;
  return `registry error${err.reason ? ` ${err.reason}` : ''} (details in the observer log)`;
}

/** Wraps anything thrown into an ObserverError, keeping an existing one's code and retry decision. */
export function asObserverError(
  err: unknown,
  fallback: ObserverErrorOptions & { context: string },
): ObserverError {
  if (err instanceof ObserverError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  // Foreign error text (a parser quoting a body, a socket error) stays out of the public message.
  return new ObserverError(`${fallback.context}: ${detail}`, {
    publicMessage: `${fallback.context}: ${fallback.code} error (details in the observer log)`,
    ...fallback,
    cause: err,
  });
}
