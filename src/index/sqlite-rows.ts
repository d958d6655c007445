import type { RunKind } from '../tekton/index.ts';
import type { AttestationSummary, RunState, StorageOutcome } from './attestation-index.ts';

/** Row shapes of the SQLite schema (sqlite-schema.ts) and their mapping to the index's types. */
export interface AttestationRow {
  id: string;
  run_uid: string;
  kind: RunKind;
  namespace: string;
  name: string;
  predicate_type: string;
  key_id: string;
  storage: string;
  created_at: number;
  subjects: string;
}

export interface RunStateRow {
  uid: string;
  kind: RunKind;
  namespace: string;
  name: string;
  status: RunState['status'];
  attempts: number;
  last_error: string | null;
  updated_at: number;
}

export const SUMMARY_COLUMNS = `a.id, a.run_uid, a.kind, a.namespace, a.name, a.predicate_type, a.key_id, a.storage, a.created_at,
  (SELECT json_group_array(json_object('name', s.name, 'digest', s.digest))
     FROM (SELECT name, digest FROM subjects WHERE attestation_id = a.id ORDER BY name, digest) s) AS subjects`;

export function toSummary(row: AttestationRow): AttestationSummary {
  return {
    id: row.id,
    run: { kind: row.kind, namespace: row.namespace, name: row.name, uid: row.run_uid },
    predicateType: row.predicate_type,
    subjects: JSON.parse(row.subjects) as { name: string; digest: string }[],
    keyId: row.key_id,
    storage: JSON.parse(row.storage) as StorageOutcome[],
    createdAt: new Date(row.created_at),
  };
}

export function toRunState(row: RunStateRow): RunState {
  const state: RunState = {
    uid: row.uid,
    run: { kind: row.kind, namespace: row.namespace, name: row.name },
    status: row.status,
    attempts: row.attempts,
    updatedAt: new Date(row.updated_at),
  };
  if (row.last_error !== null) state.lastError = row.last_error;
  return state;
}
