import { asObserverError } from '../errors.ts';
import type { AttemptContext } from '../model/index.ts';
import type { SignedArtifact, StorageBackend, StoreResult } from '../storage/index.ts';
import type { RunRef } from '../tekton/index.ts';
import type { PipelineTelemetry } from './telemetry.ts';

/**
 * Stores one artifact in one backend and tells the telemetry (the `store` step's duration, the
 * store result, Chains' payload_stored / signing_failures{storage}). Never throws: a backend that
 * throws anyway becomes a retryable failed result.
 */
export async function storeArtifact(
  backend: StorageBackend,
  run: RunRef,
  artifact: SignedArtifact,
  telemetry: PipelineTelemetry,
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
  const seconds = (performance.now() - started) / 1000;
  telemetry.emit({
    type: 'step',
    run,
    step: 'store',
    seconds,
    backend: backend.name,
    ...(result.ok ? {} : { failed: 'storage' as const }),
  });
  telemetry.emit({ type: 'stored', run, backend: backend.name, ok: result.ok });
  return result;
}
