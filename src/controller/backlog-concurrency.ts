import { AdaptiveLimit, HeadroomLimit, type Lane, LatencyCap } from '../queue/index.ts';

/**
 * How many backlog attempts may run at once: the CPU headroom limit (headroom-limit.ts), sampled
 * every second, where the CPU's busy share can be read (it stops growing where more attempts in
 * flight stop finishing more attempts per second), else the attempt-time limit
 * (adaptive-limit.ts); under the cap that fresh runs' attempt time keeps (latency-cap.ts), so a
 * drain that keeps the machine busy never makes a fresh run wait past its target.
 *
 * Registries and the apiserver are bounded separately, whatever this allows: requests in flight
 * per registry host (`storage.oci.max-requests-per-host`), the apiserver's QPS
 * (`controller.kube-api-qps`), a failing host's circuit breaker.
 */
export class BacklogConcurrency {
  readonly #busyShare: (() => number | undefined) | undefined;
  readonly #headroom: HeadroomLimit;
  readonly #attemptTime: AdaptiveLimit;
  readonly #liveCap: LatencyCap;
  /**
   * Where the CPU can be read, the headroom limit holds from the start: at its initial limit until
   * the controller's first tick (after the first list), not the attempt-time limit, which would
   * follow the attempts of a long first list before any CPU sample was taken.
   */
  #useHeadroom: boolean;
  /** backlog attempts ended since the last tick: the throughput the headroom limit must buy */
  #backlogEnded = 0;

  constructor(options: {
    /** highest limit (controller.backlog-workers) */
    max: number;
    /** fresh attempts slower than this cut the cap */
    liveTargetMs: number;
    /** the CPU's busy share since the last call (machine-cpu.ts); undefined: attempt time only */
    busyShare?: () => number | undefined;
  }) {
    const max = Math.max(1, options.max);
    this.#busyShare = options.busyShare;
    this.#useHeadroom = options.busyShare !== undefined;
    // start low: a burst of max attempts at start-up would hold the CPU before the first sample
    const initial = Math.min(max, 4);
    this.#headroom = new HeadroomLimit({ min: 1, max, initial });
    this.#attemptTime = new AdaptiveLimit({ min: 1, max, initial });
    this.#liveCap = new LatencyCap({ targetMs: options.liveTargetMs, max });
  }

  /** Backlog attempts allowed at once now. */
  get current(): number {
    const own = this.#useHeadroom ? this.#headroom.current : this.#attemptTime.current;
    return Math.min(own, this.#liveCap.current);
  }

  /** What the limit follows now: `cpu` headroom, or `attempt_time` where the CPU cannot be read. */
  get follows(): 'cpu' | 'attempt_time' {
    return this.#useHeadroom ? 'cpu' : 'attempt_time';
  }

  /** Once a second: `binding` when backlog keys waited while every allowed attempt was in flight. */
  tick(binding: boolean): void {
    const busy = this.#busyShare?.();
    // a CPU that cannot be read (not Linux) cannot be read at the next tick either
    this.#useHeadroom = busy !== undefined;
    if (busy === undefined) return;
    this.#headroom.sample(busy, binding, this.#backlogEnded);
    this.#backlogEnded = 0;
  }

  /** An attempt ended after `durationMs`: a fresh run's that attested feeds the live cap. */
  attemptEnded(durationMs: number, lane: Lane, attested: boolean): void {
    this.#attemptTime.sample(durationMs);
    if (lane === 'backlog') {
      this.#liveCap.backlogDone();
      this.#backlogEnded++;
    } else if (attested) this.#liveCap.sample(durationMs);
  }
}
