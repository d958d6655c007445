import { createHash } from 'node:crypto';
import { consistencyProof, inclusionProof, type NodeId } from '../../log/index.ts';
import type { DsseEnvelope } from '../../signing/index.ts';
import type { DecisionLog, LoggedEntry } from './decision-log.ts';

/**
 * An entry's place in the log with what verifies it offline: the inclusion proof up to the newest
 * signed checkpoint that holds it (with that checkpoint), or up to the current tree when none does
 * yet (then no checkpoint: ask again after the next one). Hashes are base64.
 */
export interface LogProof {
  index: number;
  treeSize: number;
  leafHash: string;
  /** the entry's canonical JSON (absent for an entry the caller may not see, or of a pruned run) */
  entry?: string;
  inclusionProof: string[];
  checkpoint?: string;
}

type Log = Pick<DecisionLog, 'logSize' | 'logNodes' | 'checkpoints'>;
const reader = (log: Log) => (ids: readonly NodeId[]) => log.logNodes(ids);

export async function logProofOf(log: Log, e: LoggedEntry, showEntry: boolean): Promise<LogProof> {
  const [newest] = await log.checkpoints(1);
  const covered = newest && newest.size > e.seq ? newest : undefined;
  const treeSize = covered?.size ?? (await log.logSize());
  const proof = await inclusionProof(reader(log), e.seq, treeSize);
  return {
    index: e.seq,
    treeSize,
    leafHash: e.leafHash.toString('base64'),
    ...(showEntry && e.entry !== undefined ? { entry: e.entry } : {}),
    inclusionProof: proof.map((p) => p.toString('base64')),
    ...(covered ? { checkpoint: covered.note } : {}),
  };
}

/** The key of the `attested` (or `adopted`) entry of this run's envelope (log/decision-entry.ts entryKey). */
export function attestationEntryKeys(runUid: string, envelope: DsseEnvelope): string[] {
  const digest = `sha256:${createHash('sha256').update(Buffer.from(envelope.payload, 'base64')).digest('hex')}`;
  return [`attested:${runUid}:${digest}`, `adopted:${runUid}:${digest}`];
}

export async function consistencyOf(log: Log, from: number, to: number): Promise<string[]> {
  return (await consistencyProof(reader(log), from, to)).map((p) => p.toString('base64'));
}
