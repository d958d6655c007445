import { mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ObserverConfig } from '../config/index.ts';
import { ObserverError } from '../errors.ts';
import { type AttestationIndex, indexFromOptions } from '../index/index.ts';
import type { Logger, Metrics } from '../observability/index.ts';

export interface IndexOpenerOptions {
  config: ObserverConfig;
  logger: Logger;
  metrics: Metrics;
  /** told why the index is not open yet (for /readyz), and undefined once it is */
  onWaiting: (message: string | undefined) => void;
  /** pause between attempts; default 5 s */
  retryMs?: number;
  /** stops waiting (shutdown during start-up): the last error is thrown */
  signal?: AbortSignal;
}

/**
 * Opens the index of record (PostgreSQL when `index.url` is set, else the SQLite file at
 * `index.path`, its directory made), waiting for it when the failure is retryable (the database is
 * down or unreachable at start): the pod then stays up and NotReady, `/readyz` names the problem
 * and each failed attempt counts as a failed index write (`store_results_total{backend="index",
 * outcome="error"}`, the ProvenanceObserverIndexUnavailable alert), instead of exiting into a
 * crash loop. A permanent failure (bad config, a schema this build cannot use) is thrown at once.
 */
export async function openIndexWhenReachable(options: IndexOpenerOptions): Promise<AttestationIndex> {
  const { config, logger, metrics, onWaiting } = options;
  for (let attempt = 1; ; attempt++) {
    try {
      const index = await openIndex(config, logger);
      onWaiting(undefined);
      if (attempt > 1) logger.info({ attempt }, 'index of record open');
      return index;
    } catch (err) {
      const retryable = err instanceof ObserverError && err.retryable;
      if (!retryable || options.signal?.aborted) throw err;
      const message = `index of record not reachable yet: ${(err as Error).message}`;
      metrics.storeResults.inc({ backend: 'index', outcome: 'error' });
      onWaiting(message);
      if (attempt === 1 || attempt % 12 === 0) logger.error({ attempt }, message);
      await sleep(options.retryMs ?? 5000, undefined, { signal: options.signal }).catch(() => undefined);
    }
  }
}

function openIndex(config: ObserverConfig, logger: Logger): Promise<AttestationIndex> {
  if (!config.indexUrl && config.indexPath !== ':memory:')
    mkdirSync(dirname(config.indexPath), { recursive: true });
  const { caFile, mode } = config.indexTls;
  const ca = caFile === undefined ? undefined : readCa(caFile);
  return indexFromOptions({ url: config.indexUrl, path: config.indexPath, tls: { mode, ca }, logger });
}

/** The PEM named by `index.tls-ca-file`; a config error naming the key when unreadable. */
export function readCa(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new ObserverError(
      `config key "index.tls-ca-file": cannot read ${file}: ${(err as Error).message}`,
      { code: 'config_invalid', retryable: false, cause: err },
    );
  }
}
