/**
 * A concurrency limit that follows the CPU left on the machine: sampled once a second, it grows
 * while the CPU is less busy than `targetBusy` (by more the further below it is) and shrinks by
 * `decrease` while it is busier than `targetBusy + band`. It moves only while it binds (work is
 * waiting and every allowed attempt is in flight): a limit that nobody uses says nothing about the
 * machine, and must not have grown to `max` when a backlog arrives.
 *
 * Attempts mostly wait (on registries, the apiserver, the settle time of a tag), so the limit that
 * keeps the machine busy is far above the number of cores, and attempt time is no guide to it: it
 * grows with load before the CPU is full (the settle wait is twice a tag's read-to-PUT window).
 */
export interface HeadroomLimitOptions {
  /** lowest limit (default 1) */
  min?: number;
  /** highest limit: a bound on memory in flight, not the working point */
  max: number;
  /** starting limit (default min) */
  initial?: number;
  /** busy share of the CPU to keep (default 0.93) */
  targetBusy?: number;
  /** above targetBusy + band the limit shrinks (default 0.03) */
  band?: number;
  /** factor of a shrinking step (default 0.85) */
  decrease?: number;
  /** growth per sample, as a share of the limit at busy 0 (default 0.5; less the closer to target) */
  growth?: number;
}

export class HeadroomLimit {
  readonly #min: number;
  readonly #max: number;
  readonly #target: number;
  readonly #band: number;
  readonly #decrease: number;
  readonly #growth: number;
  #limit: number;

  constructor(options: HeadroomLimitOptions) {
    this.#min = Math.max(1, options.min ?? 1);
    this.#max = Math.max(this.#min, options.max);
    this.#limit = Math.min(this.#max, Math.max(this.#min, options.initial ?? this.#min));
    this.#target = options.targetBusy ?? 0.93;
    this.#band = options.band ?? 0.03;
    this.#decrease = options.decrease ?? 0.85;
    this.#growth = options.growth ?? 0.5;
  }

  /** The whole number of attempts allowed at once now. */
  get current(): number {
    return Math.floor(this.#limit);
  }

  /**
   * One sample: the CPU's busy share (0–1) since the last one, and whether the limit bound in
   * that time. Shrinks whenever the CPU is too busy, bound or not: other work may have arrived.
   */
  sample(busy: number, binding: boolean): void {
    if (busy > this.#target + this.#band) {
      this.#limit = Math.max(this.#min, this.#limit * this.#decrease);
      return;
    }
    if (!binding || busy >= this.#target - this.#band) return;
    const room = (this.#target - busy) / this.#target;
    this.#limit = Math.min(this.#max, this.#limit + Math.max(1, this.#limit * this.#growth * room));
  }
}
