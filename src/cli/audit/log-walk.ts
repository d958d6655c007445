import type { DecisionLog, StoredCheckpoint } from '../../index/index.ts';
import {
  type Checkpoint,
  consistencyProof,
  leafHash,
  MemoryTree,
  type NoteKey,
  openCheckpoint,
  treeRoot,
  verifyConsistency,
} from '../../log/index.ts';

/** What the audit found wrong, one line each; empty when nothing is. */
export type Findings = string[];

const PAGE = 10_000;

/** What the walk learned of the log, for the other audits. */
export interface LogWalk {
  size: number;
  /** run uid → decision types logged for it */
  runs: Map<string, Set<string>>;
  /** payload digests of `attested` and `adopted` entries */
  payloads: Set<string>;
  /** `host/repo` of every `.att` location an `attested` entry names */
  repositories: Set<string>;
}

/**
 * Walks every entry of the log in order: the sequence has no gap, each entry's JSON hashes to its
 * leaf, and the tree rebuilt from the leaves has the root the stored tree has and the root of
 * every signed checkpoint (stored ones and `extra`, each verified with `keys`); consecutive
 * checkpoints are also checked for consistency with a proof from the stored tree, as an auditor
 * holding only checkpoints would. Says where: the first entry missing or changed, the first
 * checkpoint the entries no longer match.
 */
export async function walkLog(
  log: Pick<DecisionLog, 'logSize' | 'logNodes' | 'logEntries' | 'checkpoints'>,
  keys: readonly NoteKey[],
  extra: readonly string[],
  findings: Findings,
): Promise<LogWalk> {
  const size = await log.logSize();
  const walk: LogWalk = { size, runs: new Map(), payloads: new Set(), repositories: new Set() };
  const rebuilt = new MemoryTree();
  let expected = 0;
  for (let from = 0; from < size; from += PAGE) {
    const page = await log.logEntries(from, Math.min(size, from + PAGE));
    const leaves: Buffer[] = [];
    for (const e of page) {
      if (e.seq !== expected)
        findings.push(`log entries ${expected}…${e.seq - 1} are missing (deleted from the index?)`);
      expected = e.seq + 1;
      if (e.entry !== undefined && !leafHash(Buffer.from(e.entry)).equals(e.leafHash))
        findings.push(
          `log entry ${e.seq} (run ${e.runUid}) does not hash to its leaf: its contents were changed`,
        );
      leaves.push(e.leafHash);
      note(walk, e.runUid, e.type, e.entry);
    }
    rebuilt.appendSync(leaves);
  }
  if (expected < size)
    findings.push(`log entries ${expected}…${size - 1} are missing (deleted from the index?)`);
  const read = (ids: Parameters<DecisionLog['logNodes']>[0]) => log.logNodes(ids);
  if (rebuilt.size === size && !(await treeRoot(read, size)).equals(await treeRoot(rebuilt.read, size)))
    findings.push(`the stored tree's root at size ${size} is not the root of the log's entries`);
  await checkCheckpoints(log, read, rebuilt, keys, extra, findings);
  return walk;
}

function note(walk: LogWalk, uid: string, type: string, entry: string | undefined): void {
  const types = walk.runs.get(uid) ?? new Set<string>();
  types.add(type);
  walk.runs.set(uid, types);
  if (!entry || (type !== 'attested' && type !== 'adopted')) return;
  const parsed = JSON.parse(entry) as { payloadDigest: string; stored?: { locations: string[] }[] };
  walk.payloads.add(parsed.payloadDigest);
  for (const s of parsed.stored ?? [])
    for (const l of s.locations) {
      const m = /^(.+):sha256-[0-9a-f]{64}\.att$/.exec(l);
      if (m?.[1]) walk.repositories.add(m[1]);
    }
}

async function checkCheckpoints(
  log: Pick<DecisionLog, 'checkpoints' | 'logSize'>,
  read: Parameters<typeof treeRoot>[0],
  rebuilt: MemoryTree,
  keys: readonly NoteKey[],
  extra: readonly string[],
  findings: Findings,
): Promise<void> {
  const stored: StoredCheckpoint[] = await log.checkpoints(1_000);
  const notes = [
    ...stored.map((c) => ({ note: c.note, from: `stored checkpoint ${c.size}` })),
    ...extra.map((note, i) => ({ note, from: `checkpoint file ${i + 1}` })),
  ];
  const opened: Checkpoint[] = [];
  for (const { note, from } of notes) {
    const c = openCheckpoint(note, keys);
    if ('error' in c) {
      findings.push(`${from}: ${c.error}`);
      continue;
    }
    opened.push(c);
    if (c.size > rebuilt.size)
      findings.push(`${from} has size ${c.size}, the log only ${rebuilt.size}: entries were removed`);
    else if (!(await treeRoot(rebuilt.read, c.size)).equals(c.rootHash))
      findings.push(
        `${from} (size ${c.size}) does not match the log's entries: an entry before ${c.size} was removed or changed`,
      );
  }
  opened.sort((a, b) => a.size - b.size);
  const size = await log.logSize();
  for (let i = 1; i < opened.length; i++) {
    const [a, b] = [opened[i - 1] as Checkpoint, opened[i] as Checkpoint];
    if (a.size === 0 || b.size > size) continue;
    const why = verifyConsistency(
      a.size,
      b.size,
      a.rootHash,
      b.rootHash,
      await consistencyProof(read, a.size, b.size),
    );
    if (why) findings.push(`checkpoints ${a.size} and ${b.size} are not consistent: ${why}`);
  }
}
