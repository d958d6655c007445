import { asObserverError } from '../errors.ts';
import type { AttemptContext } from '../model/index.ts';
import type { Metrics } from '../observability/index.ts';
import type { SignedArtifact, StorageBackend, StoreResult } from '../storage/index.ts';
import type { RunRef } from '../tekton/index.ts';

/**
 * Stores one artifact in one backend and counts it (stage duration, store results, Chains'
 * payload_stored / signing_failures{storage}). Never throws: a backend that throws anyway becomes
 * a retryable failed result.
 */
export async function storeArtifact(
  backend: StorageBackend,
  run: RunRef,
  artifact: SignedArtifact,
  metrics: Metrics,
  context?: AttemptContext,
): Promise<StoreResult> {
  const started = performance.now();
  const result = await backend.store({ run, artifact, ...(context ? { context } : {}) }).catch(
    (err: unknown): StoreResult => ({
      backend: backend.name,
      ok: false,
      error: asObserverError(err, {
        code: 'storage',
        retryable: true,
        context: `storing in ${backend.name}`,
      }),
    }),
  );
  metrics.stageDuration.observe(
    { stage: 'store', backend: backend.name },
    (performance.now() - started) / 1000,
  );
  metrics.storeResults.inc({ backend: backend.name, outcome: result.ok ? 'ok' : 'error' });
  if (result.ok) metrics.chains[run.kind].payloadStored.inc();
  else metrics.chains[run.kind].signingFailures.inc({ error_type: 'storage' });
  return result;
}

/** Runs `fn`, observing its duration as stage `stage` (extract, sign). */
export async function timedStage<T>(metrics: Metrics, stage: string, fn: () => T | Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await fn();
  } finally {
    metrics.stageDuration.observe({ stage, backend: '' }, (performance.now() - started) / 1000);
  }
}
