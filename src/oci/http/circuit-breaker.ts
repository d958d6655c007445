/**
 * Per-host circuit breakers for registry calls. After `failureThreshold` consecutive failures
 * (no answer, timeout, 5xx) a host's circuit opens: calls fail fast for `coolDownMs`, so workers are
 * not held by a host that is down. Then one probe call is let through (half-open): success closes
 * the circuit, failure opens it for another cool-down. Recovery needs no operator.
 */
export type CircuitState = 'closed' | 'open' | 'half_open';

export interface CircuitBreakersOptions {
  /** consecutive failures that open a host's circuit; default 5 */
  failureThreshold?: number;
  /** how long an open circuit fails fast before a probe; default 30 s */
  coolDownMs?: number;
  /** hosts tracked at most (closed ones are dropped first); default 1024 */
  maxHosts?: number;
  /** default Date.now */
  now?: () => number;
  /** called with the number of hosts in each state whenever it changes (a metric) */
  onChange?: (counts: Record<CircuitState, number>) => void;
}

interface HostCircuit {
  state: CircuitState;
  failures: number;
  openedAt: number;
  probing: boolean;
}

/** What `acquire` hands out: report the call's outcome through it exactly once. */
export interface CircuitTicket {
  success(): void;
  failure(): void;
  /** the call was cancelled by its caller (no verdict on the host): a probe slot is freed */
  abandon(): void;
}

/** While a probe is out, others wait this long (at most the cool-down) before asking again. */
const PROBE_WAIT_MS = 5_000;

export class CircuitBreakers {
  readonly #threshold: number;
  readonly #coolDownMs: number;
  readonly #maxHosts: number;
  readonly #now: () => number;
  readonly #onChange?: CircuitBreakersOptions['onChange'];
  readonly #hosts = new Map<string, HostCircuit>();

  constructor(options: CircuitBreakersOptions = {}) {
    this.#threshold = options.failureThreshold ?? 5;
    this.#coolDownMs = options.coolDownMs ?? 30_000;
    this.#maxHosts = options.maxHosts ?? 1024;
    this.#now = options.now ?? Date.now;
    this.#onChange = options.onChange;
  }

  state(host: string): CircuitState {
    return this.#hosts.get(host)?.state ?? 'closed';
  }

  /** A ticket for one call to `host`, or undefined when the call must fail fast (open, or a probe is out). */
  acquire(host: string): CircuitTicket | undefined {
    const c = this.#hosts.get(host);
    if (c?.state === 'open' && this.#now() - c.openedAt >= this.#coolDownMs) this.#set(c, 'half_open');
    if (c?.state === 'open') return undefined;
    if (c?.state === 'half_open') {
      if (c.probing) return undefined;
      c.probing = true;
    }
    let reported = false;
    const once = (fn: () => void) => () => {
      if (reported) return;
      reported = true;
      fn();
    };
    return {
      success: once(() => this.#success(host)),
      failure: once(() => this.#failure(host)),
      abandon: once(() => {
        const h = this.#hosts.get(host);
        if (h) h.probing = false;
      }),
    };
  }

  /**
   * When a call to `host` may next get through: the end of an open circuit's cool-down, or a
   * short wait while a half-open host's probe is out; undefined while the circuit is closed.
   */
  nextProbeAt(host: string): number | undefined {
    const c = this.#hosts.get(host);
    if (c?.state === 'open') return c.openedAt + this.#coolDownMs;
    if (c?.state === 'half_open') return this.#now() + Math.min(PROBE_WAIT_MS, this.#coolDownMs);
    return undefined;
  }

  #success(host: string): void {
    const c = this.#hosts.get(host);
    if (!c) return;
    c.probing = false;
    c.failures = 0;
    this.#set(c, 'closed');
  }

  #failure(host: string): void {
    let c = this.#hosts.get(host);
    if (!c) {
      this.#evict();
      c = { state: 'closed', failures: 0, openedAt: 0, probing: false };
      this.#hosts.set(host, c);
    }
    c.failures++;
    if (c.state === 'half_open' || c.failures >= this.#threshold) {
      c.probing = false;
      c.openedAt = this.#now();
      this.#set(c, 'open');
    }
  }

  #set(c: HostCircuit, state: CircuitState): void {
    if (c.state === state) return;
    c.state = state;
    this.#report();
  }

  /** Keeps the map bounded: a closed host is forgotten first (it has nothing to remember but a count). */
  #evict(): void {
    if (this.#hosts.size < this.#maxHosts) return;
    for (const [host, c] of this.#hosts) {
      if (c.state === 'closed') {
        this.#hosts.delete(host);
        return;
      }
    }
    this.#hosts.delete(this.#hosts.keys().next().value as string);
    this.#report();
  }

  #report(): void {
    if (!this.#onChange) return;
    const counts: Record<CircuitState, number> = { closed: 0, open: 0, half_open: 0 };
    for (const c of this.#hosts.values()) counts[c.state]++;
    this.#onChange(counts);
  }
}
