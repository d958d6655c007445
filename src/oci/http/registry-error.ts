import { ObserverError } from '../../errors.ts';
import { readCapped, SMALL_BODY_LIMIT } from './bounded-body.ts';
import type { RegistryResponse } from './registry-transport.ts';

/**
 * Why a registry call failed, as tenants see it: a stable code and a fixed description. The
 * registry's own words (status text, bodies, socket errors) go to the observer's log only.
 */
export const REGISTRY_REASONS = {
  registry_unreachable: 'no answer from the registry',
  registry_dns_timeout: "the registry host's name did not resolve in time",
  registry_timeout: 'the registry did not answer in time',
  registry_circuit_open: 'the registry failed repeatedly; not contacted during a cool-down',
  registry_denied: 'authentication or authorization failed',
  registry_not_found: 'not found',
  registry_rate_limited: 'rate limited by the registry',
  registry_conflict: 'a concurrent writer changed the tag',
  registry_server_error: 'the registry answered with a server error',
  registry_rejected: 'the registry rejected the request',
  registry_body_too_large: 'the registry sent a larger answer than allowed',
  registry_content_encoding: 'the registry sent a compressed answer, which is not accepted',
  registry_bad_answer: 'the registry sent an answer that is not valid',
  registry_digest_mismatch: "the registry's content does not match its digest",
  registry_too_many_layers: 'the signature or attestation manifest has too many layers',
  registry_host_forbidden: 'the registry host or an address it resolves to is not allowed',
  registry_redirect_forbidden: 'the registry redirected to a target that is not allowed',
  registry_realm_forbidden: "the registry's token realm is not allowed",
} as const;

export type RegistryReason = keyof typeof REGISTRY_REASONS;

/** The public text of a registry failure: reason code and registry host, nothing the registry sent. */
export function publicRegistryMessage(reason: RegistryReason, registry: string): string {
  return `registry ${registry}: ${reason} (${REGISTRY_REASONS[reason]})`;
}

/**
 * An ObserverError('registry') whose message (for the log) names the operation, `registry/repo`
 * and the detail, and whose publicMessage carries only the reason and the registry host.
 */
export function registryError(
  reason: RegistryReason,
  where: { operation: string; target: string },
  options: { detail?: string; retryable: boolean; cause?: unknown; notBefore?: number },
): ObserverError {
  const registry = where.target.split('/')[0];
  return new ObserverError(
    `${where.operation} ${where.target}: ${options.detail ?? REGISTRY_REASONS[reason]} [${reason}]`,
    {
      code: 'registry',
      retryable: options.retryable,
      reason,
      publicMessage: publicRegistryMessage(reason, registry),
      ...(options.cause === undefined ? {} : { cause: options.cause }),
      ...(options.notBefore === undefined ? {} : { notBefore: options.notBefore }),
    },
  );
}

/**
 * Whether a registry status is worth retrying: 5xx, 429 (rate limit), 408 (timeout) and
 * 409/412 (a concurrent writer) may pass; other 4xx (denied, unknown, invalid) will not.
 */
export const retryableStatus = (status: number): boolean =>
  status >= 500 || status === 429 || status === 408 || status === 409 || status === 412;

export function statusReason(status: number): RegistryReason {
  if (status >= 500) return 'registry_server_error';
  if (status === 401 || status === 403) return 'registry_denied';
  if (status === 404) return 'registry_not_found';
  if (status === 429) return 'registry_rate_limited';
  if (status === 409 || status === 412) return 'registry_conflict';
  if (status === 408) return 'registry_timeout';
  return 'registry_rejected';
}

/** The registry's own error codes from an error body (`{"errors":[{"code":"…"}]}`), read through a 64 KiB cap. */
async function errorCodes(res: RegistryResponse): Promise<string> {
  try {
    const bytes = await readCapped(res, SMALL_BODY_LIMIT);
    const body = JSON.parse(new TextDecoder().decode(bytes)) as {
      errors?: { code?: string; message?: string }[];
    };
    const codes = (body.errors ?? [])
      .map((e) => [e.code, e.message].filter(Boolean).join(': '))
      .filter(Boolean);
    return codes.length ? ` (${codes.join('; ').slice(0, 300)})` : '';
  } catch {
    await res.body?.cancel().catch(() => undefined);
    return '';
  }
}

/**
 * An error for a non-success status. The log message names the operation, the repository, the
 * status and the registry's error codes; the public message only the reason and the host.
 */
export async function statusError(
  operation: string,
  target: string,
  res: RegistryResponse,
): Promise<ObserverError> {
  const detail = res.status === 401 || res.status === 403 ? ' (authentication or authorization failed)' : '';
  return registryError(
    statusReason(res.status),
    { operation, target },
    {
      detail: `HTTP ${res.status}${detail}${await errorCodes(res)}`,
      retryable: retryableStatus(res.status),
      ...(res.hostDownUntil === undefined ? {} : { notBefore: res.hostDownUntil }),
    },
  );
}

/**
 * An error for a request that got no response (refused, reset, DNS, timeout): always retryable.
 * `notBefore`: the host's circuit is open until then (this failure opened it, or was its probe).
 */
export function networkError(
  operation: string,
  target: string,
  cause: unknown,
  notBefore?: number,
): ObserverError {
  const c = cause as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  const why = c?.cause?.code ?? c?.cause?.message ?? c?.message ?? String(cause);
  const timedOut = c?.name === 'TimeoutError' || (c?.cause as { name?: string })?.name === 'TimeoutError';
  return registryError(
    timedOut ? 'registry_timeout' : 'registry_unreachable',
    { operation, target },
    { detail: `no response (${why})`, retryable: true, cause, notBefore },
  );
}
