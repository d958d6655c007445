import { ObserverError } from '../errors.ts';
import type { AttemptContext } from '../model/index.ts';
import type { BackendName, Destination, RunMarker, SignedArtifact, StoreResult } from '../storage/index.ts';
import type { RunRef } from '../tekton/index.ts';
import { type AttestationPlan, storageFor } from './attestation-plan.ts';
import { storeArtifact } from './store-artifact.ts';
import type { PipelineTelemetry } from './telemetry.ts';

export interface Stored {
  artifact: SignedArtifact;
  result: StoreResult;
}

/**
 * Stores each signed artifact in each destination the plan names, all at once (a RunMarker only
 * says what the run's mark will carry), skipping those `stored`
 * already holds (successes of earlier attempts, `type/key/backend`), and adds new successes to it
 * (in plan order). `context`: the attempt, handed to every backend.
 * Returns the failures of this attempt; never throws for a backend failure.
 */
export async function storeWhereMissing(
  o: { backends: ReadonlyMap<BackendName, Destination>; telemetry: PipelineTelemetry },
  plan: AttestationPlan,
  run: RunRef,
  artifacts: readonly SignedArtifact[],
  stored: Map<string, Stored>,
  context?: AttemptContext,
): Promise<Stored[]> {
  const writes: { id: string; artifact: SignedArtifact; backend: Destination }[] = [];
  for (const artifact of artifacts)
    for (const name of storageFor(plan, artifact.type)) {
      const id = `${artifact.type}/${artifact.key}/${name}`;
      if (!stored.has(id)) writes.push({ id, artifact, backend: backendNamed(o.backends, name) });
    }
  // the writes are independent (other tags, other backends): at once, so a run waits for the
  // slowest one (a tag's settle time), not for their sum
  const results = await Promise.all(
    writes.map((w) =>
      w.backend.role === 'marker'
        ? marked(w.backend, run, w.artifact)
        : storeArtifact(w.backend, run, w.artifact, o.telemetry, context),
    ),
  );
  const failures: Stored[] = [];
  writes.forEach(({ id, artifact }, i) => {
    const result = results[i];
    if (result.ok) stored.set(id, { artifact, result });
    else failures.push({ artifact, result });
  });
  return failures;
}

/** A RunMarker's contribution as a store result: where the mark will put the artifact. */
function marked(marker: RunMarker, run: RunRef, artifact: SignedArtifact): StoreResult {
  const { annotations, location, note } = marker.marksFor(run, artifact);
  return {
    backend: marker.name,
    ok: true,
    locations: [location],
    ...(note ? { notes: [note] } : {}),
    runAnnotations: annotations,
  };
}

function backendNamed(backends: ReadonlyMap<BackendName, Destination>, name: BackendName): Destination {
  const backend = backends.get(name);
  if (!backend)
    throw new ObserverError(`storage backend "${name}" is configured but not available`, {
      code: 'config_invalid',
      retryable: false,
    });
  return backend;
}
