import { createHash } from 'node:crypto';
import type { DecisionEntry, LoggedRun } from '../log/index.ts';
import type { OutcomeTarget } from './attempt-outcomes.ts';
import type { Transition } from './transition.ts';

/**
 * The decision log's entries for a transition (docs/log.md), written with the run's record in the
 * `save` effect: an attestation (or adoption) with every input it left out, or a refusal with its
 * stated reason. Transitions that decide nothing final (a retry, a deferral, an attempt starting)
 * log nothing. Pure: the same transition gives the same entries.
 */
export function decisionsOf(t: Transition, at: OutcomeTarget, now: number): DecisionEntry[] {
  const run: LoggedRun = {
    uid: at.run.uid,
    kind: at.run.kind,
    namespace: at.run.namespace,
    name: at.run.name,
  };
  const time = new Date(now).toISOString();
  if (t.effects.some((e) => e.kind === 'record-attestation')) return attestedEntries(run, at, time);
  if (t.record.status === 'failed' && t.effects.some((e) => e.kind === 'forget'))
    return [{ v: 1, type: 'refused', run, reason: t.record.lastError ?? 'refused', at: time }];
  return [];
}

function attestedEntries(run: LoggedRun, at: OutcomeTarget, time: string): DecisionEntry[] {
  const outcome = at.attestation?.outcome;
  if (!outcome) return [];
  const skipped: DecisionEntry[] = outcome.skipped.map((s) => ({
    v: 1,
    type: 'subject-skipped',
    run,
    source: s.source,
    code: s.code,
    at: time,
  }));
  const provenance = outcome.provenance;
  if (!provenance) return skipped;
  const { artifact, statement } = provenance;
  const payloadDigest = `sha256:${createHash('sha256').update(Buffer.from(artifact.envelope.payload, 'base64')).digest('hex')}`;
  const keyId = artifact.keyId ?? at.attestation?.signer.keyId ?? '';
  if (outcome.adopted)
    return [
      { v: 1, type: 'adopted', run, payloadDigest, origin: 'run-envelope', keyId, at: time },
      ...skipped,
    ];
  const subjects = statement.subject.flatMap((s) =>
    Object.entries(s.digest ?? {}).map(([alg, hex]) => ({
      name: s.name ?? s.uri ?? '',
      digest: `${alg}:${hex}`,
    })),
  );
  const stored = outcome.results
    .filter((r) => r.artifact.type === 'provenance' && r.result.ok)
    .map((r) => ({ backend: r.result.backend, locations: r.result.ok ? r.result.locations : [] }));
  const keyIds = [
    ...new Set([keyId, ...artifact.envelope.signatures.flatMap((s) => (s.keyid ? [s.keyid] : []))]),
  ];
  return [
    {
      v: 1,
      type: 'attested',
      run,
      predicateType: artifact.predicateType,
      payloadDigest,
      subjects,
      keyIds: keyIds.filter(Boolean),
      stored,
      at: time,
    },
    ...skipped,
  ];
}
