import { HASH_BYTES } from './merkle-hash.ts';
import { type NoteKey, openNote } from './signed-note.ts';

/**
 * A transparency log checkpoint (https://c2sp.org/tlog-checkpoint): the note text
 *   <origin>\n<tree size, decimal>\n<root hash, base64>\n[extension lines]
 * signed as a C2SP signed note (signed-note.ts).
 */
export interface Checkpoint {
  origin: string;
  size: number;
  rootHash: Buffer;
  /** optional extension lines (we write one: `time <RFC 3339>`) */
  extensions?: string[];
}

export function checkpointText(c: Checkpoint): string {
  if (!c.origin || c.origin.includes('\n')) throw new Error('a checkpoint origin is one non-empty line');
  const ext = (c.extensions ?? []).map((e) => `${e}\n`).join('');
  return `${c.origin}\n${c.size}\n${c.rootHash.toString('base64')}\n${ext}`;
}

export function parseCheckpoint(text: string): Checkpoint | { error: string } {
  const lines = text.split('\n');
  if (lines.length < 4 || lines.at(-1) !== '') return { error: 'a checkpoint has at least three lines' };
  const [origin, sizeText, rootText, ...rest] = lines;
  if (!origin) return { error: 'the checkpoint has no origin' };
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText ?? '') || !Number.isSafeInteger(Number(sizeText)))
    return { error: `tree size ${JSON.stringify(sizeText)} is not a decimal number` };
  const rootHash = Buffer.from(rootText ?? '', 'base64');
  if (rootHash.length !== HASH_BYTES || rootHash.toString('base64') !== rootText)
    return { error: 'the root hash is not 32 bytes of base64' };
  const extensions = rest.slice(0, -1);
  return { origin, size: Number(sizeText), rootHash, ...(extensions.length ? { extensions } : {}) };
}

/** A signed checkpoint note opened with `keys` (signed-note.ts) and parsed; a reason when it does not verify. */
export function openCheckpoint(note: string, keys: readonly NoteKey[]): Checkpoint | { error: string } {
  const opened = openNote(note, keys);
  if ('error' in opened) return opened;
  return parseCheckpoint(opened.text);
}
