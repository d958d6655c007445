import { createHash } from 'node:crypto';
import { BoundedCache } from '../../cache/index.ts';
import { ObserverError } from '../../errors.ts';
import type { RunKind } from '../../tekton/index.ts';
import type { Authorizer, Caller } from './authorizer.ts';

export interface CachedAuthorizerOptions {
  inner: Authorizer;
  /** how long a decision (allow or deny, valid or invalid token) is reused; default 10 000 ms */
  ttlMs?: number;
  /** decisions kept per cache (tokens, access); default 10 000 */
  maxEntries?: number;
  /** reviews sent to `inner` at once; default 16 */
  maxInFlight?: number;
  /** reviews waiting for a slot; beyond this, requests fail fast as overloaded; default 256 */
  maxQueued?: number;
  now?: () => number;
}

/**
 * Puts a short-lived, bounded cache and a concurrency limit in front of another Authorizer, so a
 * burst of requests costs the apiserver at most one review per distinct token or access question
 * per `ttlMs`, and never more than `maxInFlight` reviews at once. Identical questions asked while a
 * review is in flight share it. Failures (apiserver unreachable) are not cached.
 *
 * Tokens are keyed by their SHA-256, so the cache never holds a token itself. A revoked token or
 * binding keeps working for at most `ttlMs`: the usual trade-off of webhook token authenticators.
 */
export class CachedAuthorizer implements Authorizer {
  readonly #inner: Authorizer;
  readonly #tokens: BoundedCache<Caller | null>;
  readonly #access: BoundedCache<boolean>;
  readonly #pending = new Map<string, Promise<unknown>>();
  readonly #waiting: (() => void)[] = [];
  readonly #maxInFlight: number;
  readonly #maxQueued: number;
  #inFlight = 0;

  constructor(options: CachedAuthorizerOptions) {
    this.#inner = options.inner;
    const cache = {
      ttlMs: options.ttlMs ?? 10_000,
      maxEntries: options.maxEntries ?? 10_000,
      now: options.now,
    };
    this.#tokens = new BoundedCache(cache);
    this.#access = new BoundedCache(cache);
    this.#maxInFlight = options.maxInFlight ?? 16;
    this.#maxQueued = options.maxQueued ?? 256;
  }

  async authenticate(token: string): Promise<Caller | undefined> {
    const key = `t:${createHash('sha256').update(token).digest('hex')}`;
    const cached = this.#tokens.get(key);
    if (cached !== undefined) return cached ?? undefined;
    const caller = await this.#once(key, () => this.#inner.authenticate(token));
    this.#tokens.set(key, caller ?? null);
    return caller;
  }

  async canGetRuns(caller: Caller, namespace: string, kind: RunKind): Promise<boolean> {
    const who = [caller.user, caller.uid ?? '', [...caller.groups].sort(), caller.extra ?? {}];
    const key = `a:${JSON.stringify([who, namespace, kind])}`;
    const cached = this.#access.get(key);
    if (cached !== undefined) return cached;
    const allowed = await this.#once(key, () => this.#inner.canGetRuns(caller, namespace, kind));
    this.#access.set(key, allowed);
    return allowed;
  }

  /** One review per key at a time; later askers share the pending promise. */
  #once<T>(key: string, review: () => Promise<T>): Promise<T> {
    const pending = this.#pending.get(key);
    if (pending) return pending as Promise<T>;
    const p = this.#limited(review).finally(() => this.#pending.delete(key));
    this.#pending.set(key, p);
    return p;
  }

  async #limited<T>(review: () => Promise<T>): Promise<T> {
    if (this.#inFlight >= this.#maxInFlight) {
      if (this.#waiting.length >= this.#maxQueued) {
        throw new ObserverError('access reviews overloaded: too many requests waiting for the apiserver', {
          code: 'kube',
          retryable: true,
        });
      }
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#inFlight++;
    }
    try {
      return await review();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#inFlight--;
    }
  }
}
