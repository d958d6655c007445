import type { AttestationIndex } from './attestation-index.ts';

export interface IndexHealthOptions {
  index: Pick<AttestationIndex, 'healthy'>;
  /** how often the database is asked; default 5000 ms */
  intervalMs?: number;
  now?: () => number;
}

/**
 * The index's answer to readiness, kept current in the background: readiness checks are
 * synchronous, `healthy()` is a round trip. Not ready from the first failed probe until the next
 * good one, so a replica whose database is unreachable leaves the Service's endpoints.
 */
export class IndexHealth {
  readonly #index: Pick<AttestationIndex, 'healthy'>;
  readonly #intervalMs: number;
  readonly #now: () => number;
  #downSince: number | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: IndexHealthOptions) {
    this.#index = options.index;
    this.#intervalMs = options.intervalMs ?? 5000;
    this.#now = options.now ?? Date.now;
  }

  /** Probes once (awaited), then every interval until stop. */
  async start(): Promise<void> {
    await this.probe();
    this.#timer = setInterval(() => void this.probe(), this.#intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async probe(): Promise<boolean> {
    const ok = await this.#index.healthy();
    if (ok) this.#downSince = undefined;
    else this.#downSince ??= this.#now();
    return ok;
  }

  status(): { ok: boolean; message?: string } {
    if (this.#downSince === undefined) return { ok: true };
    return {
      ok: false,
      message: `index database not answering since ${new Date(this.#downSince).toISOString()}`,
    };
  }
}
