import { ObserverError } from '../errors.ts';
import type { BackendName, SignedArtifact, StorageBackend, StoreResult } from '../storage/index.ts';
import type { RunRef } from '../tekton/index.ts';
import { type AttestationPlan, storageFor } from './attestation-plan.ts';
import { storeArtifact } from './store-artifact.ts';
import type { PipelineTelemetry } from './telemetry.ts';

export interface Stored {
  artifact: SignedArtifact;
  result: StoreResult;
}

/**
 * Stores each signed artifact in each backend the plan names, all at once, skipping those `stored`
 * already holds (successes of earlier attempts, `type/key/backend`), and adds new successes to it
 * (in plan order).
 * Returns the failures of this attempt; never throws for a backend failure.
 */
export async function storeWhereMissing(
  o: { backends: ReadonlyMap<BackendName, StorageBackend>; telemetry: PipelineTelemetry },
  plan: AttestationPlan,
  run: RunRef,
  artifacts: readonly SignedArtifact[],
  stored: Map<string, Stored>,
): Promise<Stored[]> {
  const writes: { id: string; artifact: SignedArtifact; backend: StorageBackend }[] = [];
  for (const artifact of artifacts)
    for (const name of storageFor(plan, artifact.type)) {
      const id = `${artifact.type}/${artifact.key}/${name}`;
      if (!stored.has(id)) writes.push({ id, artifact, backend: backendNamed(o.backends, name) });
    }
  // the writes are independent (other tags, other backends): at once, so a run waits for the
  // slowest one (a tag's settle time), not for their sum
  const results = await Promise.all(
    writes.map((w) => storeArtifact(w.backend, run, w.artifact, o.telemetry)),
  );
  const failures: Stored[] = [];
  writes.forEach(({ id, artifact }, i) => {
    const result = results[i];
    if (result.ok) stored.set(id, { artifact, result });
    else failures.push({ artifact, result });
  });
  return failures;
}

function backendNamed(backends: ReadonlyMap<BackendName, StorageBackend>, name: BackendName): StorageBackend {
  const backend = backends.get(name);
  if (!backend)
    throw new ObserverError(`storage backend "${name}" is configured but not available`, {
      code: 'config_invalid',
      retryable: false,
    });
  return backend;
}
