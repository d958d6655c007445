import type { AttestationRecorder, StorageOutcome } from '../index/index.ts';
import type { Signer } from '../signing/index.ts';
import type { RunRef } from '../tekton/index.ts';
import type { AttestOutcome } from './attestor.ts';

/**
 * Writes the index record of a successful attestation: subjects (every digest of every
 * subject), the envelope, the key id and where each backend put it (image signatures too).
 * Returns the record id, or undefined when provenance is disabled for this kind.
 */
export async function recordAttestation(
  index: AttestationRecorder,
  run: RunRef,
  outcome: AttestOutcome,
  signer: Signer,
  now: number,
): Promise<string | undefined> {
  if (!outcome.provenance) return undefined;
  const { artifact, statement } = outcome.provenance;
  const subjects = statement.subject.flatMap((s) =>
    Object.entries(s.digest ?? {}).map(([alg, hex]) => ({
      name: s.name ?? s.uri ?? '',
      digest: `${alg}:${hex}`,
    })),
  );
  const storage: StorageOutcome[] = outcome.results.map(({ result }) => ({
    backend: result.backend,
    ok: result.ok,
    locations: result.ok ? result.locations : [],
    error: result.ok ? undefined : result.error.message,
  }));
  return index.addAttestation({
    run: { kind: run.kind, namespace: run.namespace, name: run.name, uid: run.uid },
    predicateType: artifact.predicateType,
    subjects,
    envelope: artifact.envelope,
    keyId: artifact.envelope.signatures[0]?.keyid ?? signer.keyId,
    storage,
    createdAt: new Date(now),
  });
}
