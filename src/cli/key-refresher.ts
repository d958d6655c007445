import type { SecretReader } from '../kube/index.ts';
import type { Logger, Metrics } from '../observability/index.ts';

/** What the refresher feeds: the signing source's reload. */
export interface KeyReloadTarget {
  reload(data: Record<string, Uint8Array>): Promise<void>;
  status(): { ready: boolean; message: string };
}

export interface KeyRefresherOptions {
  reader: SecretReader;
  target: KeyReloadTarget;
  /** poll period (signing.secret.poll-seconds, default 30) */
  intervalSeconds: number;
  logger: Logger;
  metrics: Metrics;
  /** after every poll, whether the keys changed or not (the public-key Secret); default none */
  afterPoll?: () => Promise<void>;
  /** false: leave provenance_observer_key_ready alone (a tenant's keys); default true */
  readinessMetric?: boolean;
  /**
   * true: the Secret only adds retired public keys (a tenant whose key is in a PKCS#11 token), so
   * its absence is told as such, not as "nothing will be signed"; default false
   */
  retiredKeysOnly?: boolean;
  /** also handed the Secret's data at every change (the index seal's keys); default none */
  onData?: (data: Record<string, Uint8Array>) => void;
}

/**
 * Polls the signing Secret (a `get` every `intervalSeconds`) and reloads the keys when its
 * resourceVersion changes, so a rotated Secret takes effect without a restart. A missing Secret
 * empties the ring (readiness false); an unreadable one keeps the keys we have.
 */
export class KeyRefresher {
  readonly #o: KeyRefresherOptions;
  #version: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #unreadable = false;

  constructor(options: KeyRefresherOptions) {
    this.#o = options;
  }

  /** Loads once (awaited), then keeps polling in the background. */
  async start(): Promise<void> {
    await this.refresh();
    this.#timer = setInterval(() => void this.refresh(), this.#o.intervalSeconds * 1000);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async refresh(): Promise<void> {
    await this.#reload();
    await this.#o.afterPoll?.();
  }

  async #reload(): Promise<void> {
    const { reader, target, logger, metrics } = this.#o;
    try {
      const snapshot = await reader.read();
      this.#unreadable = false;
      const version = snapshot ? snapshot.resourceVersion : 'absent';
      if (version === this.#version) return;
      await target.reload(snapshot?.data ?? {});
      this.#o.onData?.(snapshot?.data ?? {});
      this.#version = version;
      const status = target.status();
      if (this.#o.readinessMetric !== false) metrics.keyReady.set(status.ready ? 1 : 0);
      if (!snapshot && this.#o.retiredKeysOnly)
        logger.info(
          { secret: reader.describe() },
          `Secret ${reader.describe()} not found: no retired keys published`,
        );
      else if (!snapshot)
        logger.error(
          { secret: reader.describe() },
          `signing Secret ${reader.describe()} not found; nothing will be signed`,
        );
      else if (status.ready)
        logger.info({ secret: reader.describe() }, `signing keys loaded: ${status.message}`);
      else logger.error({ secret: reader.describe() }, status.message);
    } catch (err) {
      // a Secret of retired keys only that may not be read (403): said once, not at every poll
      if (this.#o.retiredKeysOnly && this.#unreadable) return;
      this.#unreadable = true;
      logger.warn(
        { secret: reader.describe(), err: (err as Error).message },
        'could not read the signing Secret; keeping current keys',
      );
    }
  }
}
