import type { AttestOutcome } from '../attest/index.ts';
import { tenantMessage } from '../errors.ts';
import type { AttestationReader, AttestationRecorder, StorageOutcome } from '../index/index.ts';
import type { Signer } from '../signing/index.ts';
import type { RunRef } from '../tekton/index.ts';

/**
 * Writes the index record of a successful attestation: subjects (every digest of every
 * subject), the envelope, the key id and where each backend put it (image signatures too).
 * Returns the record id, or undefined when provenance is disabled for this kind.
 * Idempotent: when the index already holds this run's record of the same payload (an attempt
 * killed after this write and before the run's state said attested, then adopted or signed again),
 * that record's id is returned and nothing is added.
 */
export async function recordAttestation(
  index: AttestationRecorder & Pick<AttestationReader, 'findByRun' | 'getEnvelope'>,
  run: RunRef,
  outcome: AttestOutcome,
  signer: Signer,
  now: number,
  /** false: a record of the same payload under another envelope (another key) does not count (resign) */
  samePayloadCounts = true,
): Promise<string | undefined> {
  if (!outcome.provenance) return undefined;
  const { artifact, statement } = outcome.provenance;
  const earlier =
    samePayloadCounts &&
    (await recordedBefore(index, run, artifact.predicateType, artifact.envelope.payload));
  if (earlier) return earlier;
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
    error: result.ok ? undefined : tenantMessage(result.error),
  }));
  return index.addAttestation({
    run: { kind: run.kind, namespace: run.namespace, name: run.name, uid: run.uid },
    predicateType: artifact.predicateType,
    subjects,
    envelope: artifact.envelope,
    keyId: artifact.keyId ?? signer.keyId,
    storage,
    skipped: outcome.skipped,
    origin: outcome.origin ?? 'observer',
    createdAt: new Date(now),
  });
}

/** The id of this run's (this uid's) record of the same predicate type and payload, if any. */
async function recordedBefore(
  index: Pick<AttestationReader, 'findByRun' | 'getEnvelope'>,
  run: RunRef,
  predicateType: string,
  payload: string,
): Promise<string | undefined> {
  const records = await index.findByRun({ namespace: run.namespace, kind: run.kind, name: run.name });
  for (const r of records) {
    if (r.run.uid !== run.uid || r.predicateType !== predicateType) continue;
    if ((await index.getEnvelope(r.id))?.payload === payload) return r.id;
  }
  return undefined;
}
