import type { DecisionEntry, NodeId } from '../../log/index.ts';
import { entryBytes, entryKey, entryLeafHash } from '../../log/index.ts';

/**
 * The decision log's storage (docs/log.md): an append-only sequence of entries whose leaf hashes
 * form an RFC 6962 tree, with every complete subtree's hash stored so that tree heads and proofs
 * read O(log n) nodes. Entries are appended by `RunRecords.putRunRecord(record, fence, decisions)`
 * in the transaction that writes the run's record under its claim (one writer at a time: the
 * appender locks the log's head row), or by `appendDecisions` outside any run's claim.
 * An entry whose key (log/decision-entry.ts entryKey) is already logged is not appended again.
 * Entries of pruned runs lose their JSON, never their leaf hash or place.
 */
export interface LoggedEntry {
  /** 0-based leaf index */
  seq: number;
  key: string;
  runUid: string;
  namespace: string;
  type: string;
  /** canonical JSON; absent once the run was pruned */
  entry?: string;
  leafHash: Buffer;
  createdAt: Date;
}

export interface StoredCheckpoint {
  size: number;
  /** the signed note */
  note: string;
  createdAt: Date;
}

export interface DecisionLog {
  /** Appends outside a run's claim (tools, adoption of the past); returns the entries' indexes. */
  appendDecisions(entries: readonly DecisionEntry[]): Promise<number[]>;
  logSize(): Promise<number>;
  /** Stored node hashes by nodeKey (log/tree-nodes.ts); a NodeReader for log/tree-proofs.ts. */
  logNodes(ids: readonly NodeId[]): Promise<Map<string, Uint8Array>>;
  /** Entries with seq in [from, to), in order. */
  logEntries(from: number, to: number): Promise<LoggedEntry[]>;
  findLogEntry(key: string): Promise<LoggedEntry | undefined>;
  logEntriesOfRun(uid: string): Promise<LoggedEntry[]>;
  /** Keeps a signed checkpoint (the first one of a size stays). */
  putCheckpoint(checkpoint: StoredCheckpoint): Promise<void>;
  /** The newest `limit` checkpoints, largest size first. */
  checkpoints(limit: number): Promise<StoredCheckpoint[]>;
}

/** An entry as the stores write it. */
export interface EntryRow {
  key: string;
  runUid: string;
  namespace: string;
  type: string;
  json: string;
  leafHash: Buffer;
}

/** The rows of `entries`, without repeats of one key (the first wins). */
export function entryRows(entries: readonly DecisionEntry[]): EntryRow[] {
  const seen = new Set<string>();
  const rows: EntryRow[] = [];
  for (const e of entries) {
    const key = entryKey(e);
    if (seen.has(key)) continue;
    seen.add(key);
    rows.push({
      key,
      runUid: e.run.uid,
      namespace: e.run.namespace,
      type: e.type,
      json: Buffer.from(entryBytes(e)).toString('utf8'),
      leafHash: entryLeafHash(e),
    });
  }
  return rows;
}

export interface LoggedEntryRow {
  seq: number | string;
  entry_key: string;
  run_uid: string;
  namespace: string;
  type: string;
  entry: string | null;
  /** lowercase hex */
  leaf_hash: string;
  created_at: number | string;
}

export function toLoggedEntry(r: LoggedEntryRow): LoggedEntry {
  return {
    seq: Number(r.seq),
    key: r.entry_key,
    runUid: r.run_uid,
    namespace: r.namespace,
    type: r.type,
    ...(r.entry !== null ? { entry: r.entry } : {}),
    leafHash: Buffer.from(r.leaf_hash, 'hex'),
    createdAt: new Date(Number(r.created_at)),
  };
}
