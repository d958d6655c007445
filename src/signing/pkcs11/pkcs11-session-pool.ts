import type { Handle } from './pkcs11-binding.ts';

/**
 * A fixed set of open sessions handed out one caller at a time: a PKCS#11 session runs one
 * operation at a time (C_SignInit then C_Sign must not interleave with another signature), so
 * each signature leases a session and concurrency is bounded by the pool size. Callers beyond it
 * wait in FIFO order. `close()` rejects the waiters (the token is being re-opened).
 */
export class SessionPool {
  readonly #free: Handle[];
  readonly #waiters: { resolve: (s: Handle) => void; reject: (e: Error) => void }[] = [];
  #closed: Error | undefined;
  readonly size: number;

  constructor(sessions: Handle[]) {
    this.#free = [...sessions];
    this.size = sessions.length;
  }

  /** Runs `use` with a leased session, returned to the pool afterwards even when it throws. */
  async with<T>(use: (session: Handle) => Promise<T>): Promise<T> {
    const session = await this.#acquire();
    try {
      return await use(session);
    } finally {
      this.#release(session);
    }
  }

  /** sessions not leased right now */
  get idle(): number {
    return this.#free.length;
  }

  close(reason: Error): void {
    this.#closed = reason;
    for (const waiter of this.#waiters.splice(0)) waiter.reject(reason);
  }

  #acquire(): Promise<Handle> {
    if (this.#closed) return Promise.reject(this.#closed);
    const session = this.#free.pop();
    if (session) return Promise.resolve(session);
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  #release(session: Handle): void {
    const waiter = this.#waiters.shift();
    if (waiter) waiter.resolve(session);
    else this.#free.push(session);
  }
}
