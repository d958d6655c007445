/**
 * A concurrency limit that follows the CPU left on the machine and the throughput it buys.
 *
 * Sampled once a second, it is judged once a window (`window` samples after one settling sample):
 * it grows while the CPU was less busy than `targetBusy` (by more the further below it was) and
 * shrinks by `decrease` at once when a sample is busier than `targetBusy + band`. It moves only
 * while it binds (work is waiting and every allowed attempt is in flight): a limit that nobody
 * uses says nothing about the machine, and must not have grown to `max` when a backlog arrives.
 *
 * A growth step must pay: when the window after it completed fewer attempts per second than the
 * window before it by `minGain` of the step's proportional gain, by more than counting noise (half
 * the square root of both windows' completions), the step is undone; when the same step fails
 * twice in a row, the limit holds there for `holdWindows` windows before it tries again. Something
 * other than the CPU bounds the work then (a registry's request slots, etcd's fsyncs, one tag's
 * appends in turn), and more attempts in flight would only add memory and CPU per run.
 *
 * Attempts mostly wait (on registries, the apiserver, the settle time of a tag), so the limit that
 * keeps the machine busy is far above the number of cores, and attempt time is no guide to it.
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
  /** growth per window, as a share of the limit at busy 0 (default 0.5; less the closer to target) */
  growth?: number;
  /** samples a window judges (default 4; one more settles after each change) */
  window?: number;
  /**
   * share of a growth step's proportional throughput it must buy to stay (default 0.5: a step of
   * 20% more attempts in flight must finish at least 10% more attempts a second)
   */
  minGain?: number;
  /** windows a limit that stopped paying holds before growth is tried again (default 20) */
  holdWindows?: number;
}

interface Window {
  samples: number;
  busy: number;
  completed: number;
  binding: boolean;
}

export class HeadroomLimit {
  readonly #min: number;
  readonly #max: number;
  readonly #target: number;
  readonly #band: number;
  readonly #decrease: number;
  readonly #growth: number;
  readonly #windowSize: number;
  readonly #minGain: number;
  readonly #holdWindows: number;
  #limit: number;
  /** -1: the settling sample after a change, ignored */
  #window: Window = { samples: -1, busy: 0, completed: 0, binding: true };
  /** attempts per second of the last judged window, at the limit before the last growth step */
  #lastRate: number | undefined;
  /** the limit before the growth step the current window judges */
  #grewFrom: number | undefined;
  #holdLeft = 0;
  /** the limit a growth step that did not pay was undone to, until a step pays */
  #unpaidFrom: number | undefined;

  constructor(options: HeadroomLimitOptions) {
    this.#min = Math.max(1, options.min ?? 1);
    this.#max = Math.max(this.#min, options.max);
    this.#limit = Math.min(this.#max, Math.max(this.#min, options.initial ?? this.#min));
    this.#target = options.targetBusy ?? 0.93;
    this.#band = options.band ?? 0.03;
    this.#decrease = options.decrease ?? 0.85;
    this.#growth = options.growth ?? 0.5;
    this.#windowSize = Math.max(1, options.window ?? 4);
    this.#minGain = options.minGain ?? 0.5;
    this.#holdWindows = options.holdWindows ?? 20;
  }

  /** The whole number of attempts allowed at once now. */
  get current(): number {
    return Math.floor(this.#limit);
  }

  /** True while a growth step that did not pay holds the limit. */
  get holding(): boolean {
    return this.#holdLeft > 0;
  }

  /**
   * One sample: the CPU's busy share (0–1) since the last one, whether the limit bound in that
   * time, and how many attempts completed in it. Shrinks whenever the CPU is too busy, bound or
   * not: other work may have arrived.
   */
  sample(busy: number, binding: boolean, completed = 0): void {
    if (busy > this.#target + this.#band) {
      this.#set(Math.max(this.#min, this.#limit * this.#decrease));
      this.#grewFrom = undefined;
      this.#lastRate = undefined;
      return;
    }
    const w = this.#window;
    if (w.samples++ < 0) return; // settling after a change
    w.busy += busy;
    w.completed += completed;
    w.binding &&= binding;
    if (w.samples < this.#windowSize) return;
    this.#window = { samples: 0, busy: 0, completed: 0, binding: true };
    this.#judge(w.busy / w.samples, w.binding, w.completed / w.samples);
  }

  #judge(busy: number, binding: boolean, rate: number): void {
    if (this.#holdLeft > 0) this.#holdLeft--;
    const before = this.#lastRate;
    const grewFrom = this.#grewFrom;
    this.#grewFrom = undefined;
    this.#lastRate = rate;
    if (!binding) return;
    if (grewFrom !== undefined && before !== undefined) {
      if (!this.#paid(grewFrom, before, rate)) {
        // the step bought no throughput: back to where it was; the same step failing twice in a
        // row holds there a while (one verdict alone is too often a counting accident)
        this.#set(grewFrom);
        this.#lastRate = undefined;
        if (this.#unpaidFrom === grewFrom) this.#holdLeft = this.#holdWindows;
        this.#unpaidFrom = grewFrom;
        return;
      }
      this.#unpaidFrom = undefined;
    }
    if (this.#holdLeft > 0 || busy >= this.#target - this.#band || this.#limit >= this.#max) return;
    const room = (this.#target - busy) / this.#target;
    this.#grewFrom = this.#limit;
    this.#set(Math.min(this.#max, this.#limit + Math.max(1, this.#limit * this.#growth * room)));
  }

  /**
   * Whether the step from `grewFrom` finished its share more attempts a second. Completions are
   * counts, and two windows of the same rate differ by up to about the square root of their sum
   * (Poisson; steadier in practice): a step is undone only when it fell short by more than half of
   * that, so an unlucky window rarely undoes a step that pays, while a step that buys nothing is
   * still undone about half the time, and held after two such verdicts.
   */
  #paid(grewFrom: number, before: number, rate: number): boolean {
    const step = (this.#limit - grewFrom) / grewFrom;
    const n = this.#windowSize;
    const noise = Math.sqrt(before * n + rate * n) / n / 2;
    return rate >= before * (1 + this.#minGain * step) - noise;
  }

  #set(limit: number): void {
    if (limit === this.#limit) return;
    this.#limit = limit;
    this.#window = { samples: -1, busy: 0, completed: 0, binding: true };
  }
}
