import type { AttestationSummary } from '../index/index.ts';
import type { RunRecord } from '../model/index.ts';

/** The JSON shapes the API answers with (dates as RFC 3339 strings). */
export const attestationView = (a: AttestationSummary) => ({
  id: a.id,
  run: a.run,
  predicateType: a.predicateType,
  subjects: a.subjects,
  keyId: a.keyId,
  storage: a.storage,
  createdAt: a.createdAt.toISOString(),
});

export const runStateView = (s: RunRecord) => ({
  uid: s.uid,
  status: s.status,
  attempts: s.attempts,
  ...(s.lastError === undefined ? {} : { lastError: s.lastError }),
  updatedAt: s.updatedAt.toISOString(),
});
