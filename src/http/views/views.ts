import type { AttestationSummary } from '../../index/index.ts';
import type { RunRecord } from '../../model/index.ts';

/**
 * The JSON shapes the API answers with (dates as RFC 3339 strings). `producers` (subject digest →
 * the PipelineRun task that built it, subject-producers.ts) adds `producedBy` to subjects.
 */
export const attestationView = (a: AttestationSummary, producers?: ReadonlyMap<string, string>) => ({
  id: a.id,
  run: a.run,
  predicateType: a.predicateType,
  subjects: a.subjects.map((s) => {
    const producedBy = producers?.get(s.digest);
    return producedBy === undefined ? s : { ...s, producedBy };
  }),
  keyId: a.keyId,
  origin: a.origin ?? 'observer',
  storage: a.storage,
  skipped: a.skipped ?? [],
  createdAt: a.createdAt.toISOString(),
});

export const runStateView = (s: RunRecord) => ({
  uid: s.uid,
  status: s.status,
  attempts: s.attempts,
  ...(s.lastError === undefined ? {} : { lastError: s.lastError }),
  updatedAt: s.updatedAt.toISOString(),
});
