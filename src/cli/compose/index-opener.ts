import { setTimeout as sleep } from 'node:timers/promises';
import type { ObserverConfig } from '../../config/index.ts';
import { ObserverError } from '../../errors.ts';
import { buildProbeServer } from '../../http/index.ts';
import type { AttestationIndex, IndexSeal } from '../../index/index.ts';
import type { Logger, Metrics } from '../../observability/index.ts';
import { openIndex } from './setup.ts';

export interface IndexOpenerOptions {
  config: ObserverConfig;
  logger: Logger;
  metrics: Metrics;
  /** pause between attempts; default 5 s */
  retryMs?: number;
  /** seals the index rows that lead to a signature (keyed from the signing Secret once it loads) */
  seal?: IndexSeal;
}

/**
 * Opens the index of record, waiting for it when the failure is retryable (the database is down
 * or unreachable at start): meanwhile a stand-in probe server on `http.port` answers `/livez` 200
 * (so the startup probe passes and the pod is not restarted) and `/readyz` 503 naming the index,
 * and each failed attempt counts as a failed index write (`store_results_total{backend="index",
 * outcome="error"}`, the ProvenanceObserverIndexUnavailable alert). The stand-in closes before the
 * service's own probe server starts. A permanent failure (bad config, a schema this build cannot
 * run on) is thrown at once.
 */
export async function openIndexWhenReachable(options: IndexOpenerOptions): Promise<AttestationIndex> {
  const { config, logger, metrics } = options;
  let standIn: ReturnType<typeof buildProbeServer> | undefined;
  let waiting = 'starting';
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        const index = await openIndex(config, logger, options.seal);
        if (attempt > 1) logger.info({ attempt }, 'index of record open');
        return index;
      } catch (err) {
        if (!(err instanceof ObserverError && err.retryable)) throw err;
        waiting = `index of record not reachable yet: ${err.message}`;
        metrics.storeResults.inc({ backend: 'index', outcome: 'error' });
        if (attempt === 1 || attempt % 12 === 0) logger.error({ attempt }, waiting);
        if (!standIn) {
          standIn = buildProbeServer({
            metrics,
            logger,
            health: { checks: () => ({ startup: { ok: false, message: waiting } }) },
          });
          await standIn.listen({ host: config.http.host, port: config.http.port });
        }
        await sleep(options.retryMs ?? 5000);
      }
    }
  } finally {
    await standIn?.close();
  }
}
