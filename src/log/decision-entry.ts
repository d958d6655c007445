import { canonicalJsonBytes } from '../formats/index.ts';
import { leafHash } from './merkle-hash.ts';

/**
 * One decision of the observer, as the log records it (format version 1). The leaf is the
 * canonical JSON of the entry (src/formats/canonical-json.ts), hashed as an RFC 6962 leaf, so an
 * auditor recomputes the leaf hash from the entry alone. Times are RFC 3339 UTC strings.
 */
export interface LoggedRun {
  uid: string;
  kind: string;
  namespace: string;
  name: string;
}

export type DecisionEntry =
  /** signed and stored: what was signed (payload digest), by which keys, where it went */
  | {
      v: 1;
      type: 'attested';
      run: LoggedRun;
      predicateType: string;
      /** `sha256:<hex>` of the DSSE payload bytes */
      payloadDigest: string;
      subjects: { name: string; digest: string }[];
      keyIds: string[];
      stored: { backend: string; locations: string[] }[];
      at: string;
    }
  /** an input left out of the provenance, with its reason code */
  | { v: 1; type: 'subject-skipped'; run: LoggedRun; source: string; code: string; at: string }
  /** the run was given up on or refused: no attestation, for this stated reason */
  | { v: 1; type: 'refused'; run: LoggedRun; reason: string; at: string }
  /** the run's own envelope was taken over (verified with `keyId`), not signed by us */
  | {
      v: 1;
      type: 'adopted';
      run: LoggedRun;
      payloadDigest: string;
      origin: string;
      keyId: string;
      at: string;
    }
  /** an attested run signed again (another key or payload) */
  | { v: 1; type: 're-signed'; run: LoggedRun; payloadDigest: string; keyIds: string[]; at: string };

export type DecisionType = DecisionEntry['type'];

/** The leaf data: canonical JSON bytes. */
export function entryBytes(entry: DecisionEntry): Uint8Array {
  return canonicalJsonBytes(entry);
}

export function entryLeafHash(entry: DecisionEntry): Buffer {
  return leafHash(entryBytes(entry));
}

/**
 * What makes two entries the same decision: at most one entry per key is appended, so a decision
 * carried out again (a replica retrying after a crash, an idempotent re-store) adds nothing.
 */
export function entryKey(entry: DecisionEntry): string {
  switch (entry.type) {
    case 'attested':
    case 'adopted':
    case 're-signed':
      return `${entry.type}:${entry.run.uid}:${entry.payloadDigest}`;
    case 'subject-skipped':
      return `${entry.type}:${entry.run.uid}:${entry.code}:${entry.source}`;
    case 'refused':
      return `${entry.type}:${entry.run.uid}`;
    default:
      return entry satisfies never;
  }
}
