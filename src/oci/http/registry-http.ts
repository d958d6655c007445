import {
  type MemoryBudget,
  processMemoryBudget,
  type Reservation,
  UNDECLARED_FIRST_BYTES,
} from '../../cache/index.ts';
import { type AttemptContext, NO_ATTEMPT } from '../../model/index.ts';
import type { Metrics } from '../../observability/index.ts';
import { BodyTooLarge, EncodedBody, readCapped } from './bounded-body.ts';
import { DnsTimeout } from './bounded-resolver.ts';
import type { CircuitBreakers } from './circuit-breaker.ts';
import { type HostPolicy, HostRefused } from './host-policy.ts';
import { followRedirects } from './redirects.ts';
import { networkError, type RegistryReason, registryError } from './registry-error.ts';
import {
  plainHeaders,
  type RegistryFetch,
  type RegistryResponse,
  registryTransport,
} from './registry-transport.ts';
import { registryRequestKind } from './request-kind.ts';

/** What a request is for, in messages: "GET manifest v1" on "registry/repository". */
export interface Where {
  operation: string;
  target: string;
}

/** Which hop a request is, to name a refused host: the registry, a redirect target, a token realm. */
export type Hop = 'registry' | 'redirect' | 'realm';
const REFUSED: Record<Hop, RegistryReason> = {
  registry: 'registry_host_forbidden',
  redirect: 'registry_redirect_forbidden',
  realm: 'registry_realm_forbidden',
};

export interface RegistryHttpOptions {
  /** default: registryTransport({ policy }), or one unrestricted transport per process without a policy */
  fetch?: RegistryFetch;
  policy?: HostPolicy;
  breakers?: CircuitBreakers;
  metrics?: Pick<Metrics, 'registryRequests'>;
  /** per request, headers and body; default 30 s */
  timeoutMs?: number;
  /** what every body read reserves its cap from; default the process's (cache/memory-budget.ts) */
  budget?: MemoryBudget;
}

let sharedTransport: RegistryFetch | undefined;
function unrestrictedTransport(): RegistryFetch {
  sharedTransport ??= registryTransport();
  return sharedTransport;
}

/** The first cause in the chain that is an instance of `type`. */
function causeOf<T>(err: unknown, type: abstract new (...args: never[]) => T): T | undefined {
  for (let e = err, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++)
    if (e instanceof type) return e;
  return undefined;
}

/**
 * The HTTP layer under RegistryClient, where every rule for talking to a tenant-chosen host lives:
 * the host policy before each hop, the host's circuit breaker, `Accept-Encoding: identity`, a
 * timeout over headers and body, redirects followed by hand, byte caps on bodies, and failures
 * turned into coded registry errors (reason + host for tenants, detail for the log).
 */
export class RegistryHttp {
  readonly #fetch: RegistryFetch;
  readonly #policy?: HostPolicy;
  readonly #breakers?: CircuitBreakers;
  readonly #metrics?: Pick<Metrics, 'registryRequests'>;
  readonly #timeoutMs: number;
  readonly #budget: MemoryBudget;

  constructor(options: RegistryHttpOptions) {
    this.#budget = options.budget ?? processMemoryBudget;
    this.#policy = options.policy;
    this.#breakers = options.breakers;
    this.#metrics = options.metrics;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#fetch =
      options.fetch ??
      (options.policy ? registryTransport({ policy: options.policy }) : unrestrictedTransport());
  }

  /**
   * One request, following redirects by hand (GET/HEAD). Credentials go only to the origin the
   * request started at (the registry, or for tokens its realm), never to a redirect target.
   * `context`: the attempt the request is part of. Its signal (the deadline) aborts the request
   * too: the socket is closed, so a slow registry holds no worker past the deadline; its lane
   * orders the wait for a host slot.
   */
  send(
    where: Where,
    url: URL,
    init: RequestInit,
    authorization?: string,
    hop: Hop = 'registry',
    context: AttemptContext = NO_ATTEMPT,
  ): Promise<RegistryResponse> {
    return followRedirects(
      url,
      init.method ?? 'GET',
      (target, n) =>
        this.#exchange(
          where,
          target,
          init,
          target.origin === url.origin ? authorization : undefined,
          n ? 'redirect' : hop,
          context,
        ),
      (detail) => registryError('registry_redirect_forbidden', where, { detail, retryable: false }),
    );
  }

  /**
   * The body through a cap; a cap hit, an encoded body or a cut-off stream become coded errors.
   * Before reading, the read reserves its bytes from the process's memory budget (the declared
   * length; without one, 64 KiB grown as the body is read, never past the cap) and holds them until
   * the bytes are read: while the reads in flight hold the whole budget, this one waits (the
   * attempt's deadline ends the wait).
   */
  async read(
    where: Where,
    res: RegistryResponse,
    limit: number,
    context?: AttemptContext,
  ): Promise<Uint8Array> {
    const declared = Number(res.headers.get('content-length') ?? Number.NaN);
    // a declared length over the cap is refused before reading: nothing to reserve for it; without
    // one, a first slice is reserved and grown as the body is read
    const first = declared >= 0 ? Math.min(declared, limit) : Math.min(limit, UNDECLARED_FIRST_BYTES);
    const budget = this.#budget;
    const signal = context?.signal;
    let held: Reservation;
    try {
      held = await budget.reserve(first, 'registry', signal);
    } catch (err) {
      await res.body?.cancel().catch(() => undefined);
      throw err;
    }
    try {
      return await readCapped(res, limit, async (total) => {
        if (total > held.bytes)
          held = await budget.grow(held, Math.min(limit, 2 * total), 'registry', signal);
      });
    } catch (err) {
      const detail = (err as Error).message;
      if (err instanceof BodyTooLarge)
        throw registryError('registry_body_too_large', where, { detail, retryable: false });
      if (err instanceof EncodedBody)
        throw registryError('registry_content_encoding', where, { detail, retryable: false });
      throw networkError(where.operation, where.target, err);
    } finally {
      held.release();
    }
  }

  json<T>(where: Where, bytes: Uint8Array): T {
    try {
      return JSON.parse(new TextDecoder().decode(bytes)) as T;
    } catch (err) {
      throw registryError('registry_bad_answer', where, {
        detail: 'answer is not JSON',
        retryable: false,
        cause: err,
      });
    }
  }

  async #exchange(
    where: Where,
    url: URL,
    init: RequestInit,
    authorization: string | undefined,
    hop: Hop,
    context: AttemptContext,
  ): Promise<RegistryResponse> {
    const method = init.method ?? 'GET';
    const kind = registryRequestKind(url.pathname);
    const refused = (err: HostRefused) =>
      registryError(REFUSED[hop], where, { detail: err.message, retryable: false, cause: err });
    try {
      this.#policy?.checkHost(url.hostname);
    } catch (err) {
      throw err instanceof HostRefused ? refused(err) : err;
    }
    const breakers = this.#breakers;
    const ticket = breakers ? breakers.acquire(url.host) : { success() {}, failure() {}, abandon() {} };
    if (!ticket) {
      this.#metrics?.registryRequests.inc({ method, kind, status: 'circuit_open' });
      throw registryError('registry_circuit_open', where, {
        detail: `circuit open for ${url.host}`,
        retryable: true,
        notBefore: breakers?.nextProbeAt(url.host),
      });
    }
    const headers = plainHeaders(init.headers);
    headers['accept-encoding'] = 'identity';
    if (authorization) headers.authorization = authorization;
    // the attempt's deadline aborts the request too: the socket is closed, no worker waits on it
    const attempt = context.signal;
    const timeout = requestDeadline(this.#timeoutMs, attempt);
    let res: RegistryResponse;
    try {
      res = await this.#fetch(url, {
        ...init,
        headers,
        redirect: 'manual',
        signal: timeout.signal,
        lane: context.lane,
      });
    } catch (err) {
      this.#metrics?.registryRequests.inc({ method, kind, status: '0' });
      const host = causeOf(err, HostRefused);
      if (host) {
        ticket.failure();
        throw refused(host);
      }
      const dns = causeOf(err, DnsTimeout);
      if (dns) {
        ticket.failure();
        throw registryError('registry_dns_timeout', where, {
          detail: dns.message,
          retryable: true,
          cause: dns,
          notBefore: breakers?.nextProbeAt(url.host),
        });
      }
      // cancelled by our own deadline: no verdict on the host; the deadline's error is the answer
      if (attempt?.aborted && !timeout.timedOut) {
        ticket.abandon();
        throw attempt.reason;
      }
      ticket.failure();
      throw networkError(where.operation, where.target, err, breakers?.nextProbeAt(url.host));
    }
    this.#metrics?.registryRequests.inc({ method, kind, status: String(res.status) });
    if (res.status < 500) {
      ticket.success();
      return res;
    }
    ticket.failure();
    const hostDownUntil = breakers?.nextProbeAt(url.host);
    if (hostDownUntil === undefined) return res;
    return { status: res.status, headers: res.headers, body: res.body, hostDownUntil };
  }
}

/** The reason of a request that ran out of time: one object, built once (see requestDeadline). */
const TIMED_OUT = Object.assign(new Error('the registry did not answer in time'), { name: 'TimeoutError' });

/**
 * One signal per request that aborts after `ms` or with the attempt's signal. Built by hand rather
 * than AbortSignal.timeout + AbortSignal.any: those keep weak references and sets per request and
 * build a DOMException with a stack when the timer fires, which it does 30 s after every request
 * (the timer outlives the request: the body may still be read); measured in the draining observer's
 * CPU profile and heap. The timer is unref'd; firing after the request ended is a no-op.
 */
function requestDeadline(ms: number, attempt: AbortSignal | undefined) {
  const controller = new AbortController();
  const state = { signal: controller.signal, timedOut: false };
  setTimeout(() => {
    state.timedOut = !controller.signal.aborted;
    controller.abort(TIMED_OUT);
  }, ms).unref();
  if (attempt?.aborted) controller.abort(attempt.reason);
  else attempt?.addEventListener('abort', () => controller.abort(attempt.reason), { once: true });
  return state;
}
