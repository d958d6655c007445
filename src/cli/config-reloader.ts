import {
  CONFIG_ROWS,
  type LiveConfig,
  type ObserverConfig,
  parseConfig,
  readConfigSource,
} from '../config/index.ts';
import type { Logger, Metrics } from '../observability/index.ts';

/** Runs `fn` every `ms` until the returned function is called (injected so tests drive the clock). */
export type Every = (fn: () => void, ms: number) => () => void;

const every: Every = (fn, ms) => {
  const timer = setInterval(fn, ms);
  timer.unref();
  return () => clearInterval(timer);
};

export interface ConfigReloaderOptions {
  /** the `--config` directory (mounted ConfigMap) or file */
  path: string;
  /** `--set` flags: they win over the file, as at start-up */
  overrides?: Record<string, string>;
  /**
   * the source map (before overrides) the running config was parsed from; when given, a change
   * made since start-up read it is applied by start()
   */
  initial?: Record<string, string>;
  /** the observer's namespace (POD_NAMESPACE), as given to parseConfig at start-up */
  namespace?: string;
  live: LiveConfig;
  /** poll period (config.reload-seconds) */
  intervalSeconds: number;
  logger: Logger;
  metrics: Metrics;
  /** called after a valid change was put in force */
  onApplied?: (config: ObserverConfig) => void;
  every?: Every;
}

/** The `/readyz` check: always ok (the last good config keeps working), the message says why not quite. */
export interface ReloadStatus {
  ok: true;
  message?: string;
}

/**
 * Re-reads the configuration source every `intervalSeconds` and, when it changed, validates the
 * whole map with parseConfig. Kubernetes updates a mounted ConfigMap by swapping its `..data`
 * symlink, so one read sees the old or the new map, never half (kubernetes/kubernetes
 * pkg/volume/util/atomic_writer.go). Then:
 * - invalid: logged as an error naming the key, counted (`result="invalid"`), reported on
 *   `/readyz`; the config in force stays.
 * - valid: keys marked `live` in keys.ts take the new value; a changed restart-only key keeps its
 *   running value and is logged and reported (`config_restart_needed`, `/readyz`) until the
 *   source holds the running value again or the observer restarts.
 */
export class ConfigReloader {
  readonly #o: ConfigReloaderOptions;
  /** the raw value of every key in force (defaults filled in) */
  #inForce: Record<string, string> = {};
  #lastSeen: string | undefined;
  #rejected: string | undefined;
  #restart: string[] = [];
  #stop: (() => void) | undefined;

  constructor(options: ConfigReloaderOptions) {
    this.#o = options;
  }

  /** Takes `initial` (else the source as it is now) as the baseline, checks once, then polls. */
  start(): void {
    const { initial, overrides } = this.#o;
    const raw = initial ? { ...initial, ...overrides } : this.#read();
    this.#inForce = resolve(raw);
    this.#lastSeen = JSON.stringify(sorted(raw));
    if (initial) this.check();
    if (this.#o.intervalSeconds > 0)
      this.#stop = (this.#o.every ?? every)(() => this.check(), this.#o.intervalSeconds * 1000);
  }

  stop(): void {
    this.#stop?.();
  }

  status(): ReloadStatus {
    const parts = [
      ...(this.#rejected
        ? [`last config change rejected, running on the last good config: ${this.#rejected}`]
        : []),
      ...(this.#restart.length > 0 ? [`needs restart for changed keys: ${this.#restart.join(', ')}`] : []),
    ];
    return parts.length > 0 ? { ok: true, message: parts.join('; ') } : { ok: true };
  }

  /** One poll: reads the source and applies or rejects it when it changed since the last poll. */
  check(): void {
    const { logger, metrics, live, namespace } = this.#o;
    let raw: Record<string, string>;
    try {
      raw = this.#read();
    } catch (err) {
      const unreadable = `unreadable: ${(err as Error).message}`;
      if (unreadable !== this.#lastSeen) this.#reject((err as Error).message);
      this.#lastSeen = unreadable;
      return;
    }
    const seen = JSON.stringify(sorted(raw));
    if (seen === this.#lastSeen) return;
    this.#lastSeen = seen;
    try {
      parseConfig(raw, { namespace });
    } catch (err) {
      this.#reject((err as Error).message);
      return;
    }
    const next = resolve(raw);
    const changed = CONFIG_ROWS.filter((r) => next[r.key] !== this.#inForce[r.key]);
    const applied = changed.filter((r) => r.live).map((r) => r.key);
    this.#restart = changed.filter((r) => !r.live).map((r) => r.key);
    const merged = Object.fromEntries(
      CONFIG_ROWS.map((r) => [r.key, (r.live ? next : this.#inForce)[r.key] ?? '']),
    );
    const config = parseConfig(merged, { namespace });
    live.replace(config);
    this.#inForce = merged;
    this.#rejected = undefined;
    metrics.configReloads.inc({ result: 'applied' });
    metrics.configRestartNeeded.set(this.#restart.length > 0 ? 1 : 0);
    if (applied.length > 0) logger.info({ keys: applied }, `config change applied: ${applied.join(', ')}`);
    if (this.#restart.length > 0)
      logger.warn(
        { keys: this.#restart },
        `config keys changed that take effect only after a restart (running values kept): ${this.#restart.join(', ')}`,
      );
    this.#o.onApplied?.(config);
  }

  #read(): Record<string, string> {
    return { ...readConfigSource(this.#o.path), ...this.#o.overrides };
  }

  #reject(message: string): void {
    this.#rejected = message;
    this.#o.metrics.configReloads.inc({ result: 'invalid' });
    this.#o.logger.error(
      { path: this.#o.path, err: message },
      `config change rejected, keeping the last good config: ${message}`,
    );
  }
}

function resolve(raw: Record<string, string>): Record<string, string> {
  return Object.fromEntries(CONFIG_ROWS.map((r) => [r.key, (raw[r.key] ?? r.default).trim()]));
}

function sorted(raw: Record<string, string>): [string, string][] {
  return Object.entries(raw).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
