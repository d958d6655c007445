import { createHash } from 'node:crypto';
import { ObserverError } from '../errors.ts';
import type { RunRecord } from '../model/index.ts';
import type { DsseEnvelope } from '../signing/index.ts';
import { describeRun as describe } from '../tekton/index.ts';
import type { NewAttestation } from './attestation-index.ts';
import type { RunScope } from './attestation-reader.ts';
import { type CursorPosition, decodeCursor } from './cursor.ts';

/**
 * Input checks and derived values every index implementation shares, so SQLite and PostgreSQL
 * accept, reject and identify exactly the same things.
 */

/** A digest as stored and queried: `alg:hex`, lower case. */
const DIGEST = /^[a-z0-9]+:[a-f0-9]{32,128}$/;

/** What an implementation stores for one attestation, after validation. */
export interface AttestationRecord {
  id: string;
  subjects: { name: string; digest: string }[];
  /** distinct digests, for the digest lookup table */
  digests: string[];
  createdAt: number;
  envelopeJson: string;
  storageJson: string;
  /** the skipped inputs, JSON (`[]` for none) */
  skippedJson: string;
  /** UTF-8 bytes of `envelopeJson`, counted against the namespace */
  payloadBytes: number;
}

export function attestationRecord(a: NewAttestation): AttestationRecord {
  const subjects = a.subjects.map((s) => ({ name: s.name, digest: normalizeDigest(s.digest, a) }));
  const createdAt = a.createdAt.getTime();
  if (!Number.isFinite(createdAt))
    throw invalid(`attestation of ${describe(a.run)}: createdAt is not a date`);
  const envelopeJson = JSON.stringify(a.envelope);
  return {
    id: attestationId(a.run.uid, a.envelope),
    subjects,
    digests: [...new Set(subjects.map((s) => s.digest))],
    createdAt,
    envelopeJson,
    storageJson: JSON.stringify(a.storage),
    skippedJson: JSON.stringify(
      (a.skipped ?? []).map(({ source, code, reason }) => ({ source, code, reason })),
    ),
    payloadBytes: Buffer.byteLength(envelopeJson, 'utf8'),
  };
}

/** Column values of an attestation row, in schema order (id … payload_bytes). */
export function attestationColumns(a: NewAttestation, r: AttestationRecord): (string | number)[] {
  const { run } = a;
  return [
    r.id,
    run.uid,
    run.kind,
    run.namespace,
    run.name,
    a.predicateType,
    a.keyId,
    r.envelopeJson,
    r.storageJson,
    r.createdAt,
    r.payloadBytes,
  ];
}

/** Column values of a run record row: uid … updated_at in schema order, then next_attempt_at, deferred_since. */
export function runRecordColumns(state: RunRecord): (string | number | null)[] {
  const { run } = state;
  return [
    state.uid,
    run.kind,
    run.namespace,
    run.name,
    state.status,
    state.attempts,
    state.lastError ?? null,
    state.updatedAt.getTime(),
    state.nextAttemptAt?.getTime() ?? null,
    state.deferredSince?.getTime() ?? null,
    state.lastAttemptAt?.getTime() ?? null,
  ];
}

/** SHA-256 over the run uid and the envelope's fields in a fixed order (key order of the input does not matter). */
export function attestationId(runUid: string, envelope: DsseEnvelope): string {
  const canonical = JSON.stringify({
    payloadType: envelope.payloadType,
    payload: envelope.payload,
    signatures: envelope.signatures.map((s) => ({ keyid: s.keyid ?? '', sig: s.sig })),
  });
  return createHash('sha256').update(runUid).update('\n').update(canonical).digest('hex');
}

/** A validated digest page request: `limit` 1..1000, the cursor decoded. */
export function digestPage(
  digest: string,
  page: { limit: number; cursor?: string; scopes?: readonly RunScope[] },
): { digest: string; limit: number; after?: CursorPosition; scopes: string[] | null } {
  const limit = Math.trunc(page.limit);
  if (!(limit >= 1 && limit <= 1000))
    throw invalid(`listing attestations of ${digest}: limit must be 1..1000`);
  // scopes as `kind/namespace` keys, matched against `a.kind || '/' || a.namespace`; null: all
  const scopes = page.scopes ? page.scopes.map((s) => `${s.kind}/${s.namespace}`) : null;
  if (page.cursor === undefined) return { digest: digest.toLowerCase(), limit, scopes };
  const after = decodeCursor(page.cursor);
  if (!after) throw invalid(`listing attestations of ${digest}: malformed cursor`);
  return { digest: digest.toLowerCase(), limit, after, scopes };
}

/** A lease length in whole milliseconds, 1 ms .. 1 day. */
export function leaseMs(uid: string, ms: number): number {
  if (!(Number.isInteger(ms) && ms >= 1 && ms <= 86_400_000))
    throw invalid(`claiming run ${uid}: lease must be 1..86400000 ms, got ${ms}`);
  return ms;
}

function normalizeDigest(digest: string, a: NewAttestation): string {
  const d = digest.toLowerCase();
  if (!DIGEST.test(d))
    throw invalid(`attestation of ${describe(a.run)}: subject digest "${digest}" is not alg:hex`);
  return d;
}

export const invalid = (message: string): ObserverError =>
  new ObserverError(message, { code: 'input_invalid', retryable: false });
