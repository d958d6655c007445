export { type Checkpoint, checkpointText, openCheckpoint, parseCheckpoint } from './checkpoint.ts';
export {
  type DecisionEntry,
  type DecisionType,
  entryBytes,
  entryKey,
  entryLeafHash,
  type LoggedRun,
} from './decision-entry.ts';
export { emptyRoot, HASH_BYTES, leafHash, nodeHash } from './merkle-hash.ts';
export { rootFromInclusion, verifyConsistency, verifyInclusion } from './proof-verify.ts';
export {
  assembleNote,
  type NoteKey,
  type NoteKeyType,
  noteKeyOf,
  openNote,
  signatureLine,
} from './signed-note.ts';
export { appendNeeds, appendNodes, MemoryTree, type StoredNode } from './tree-append.ts';
export { type NodeId, nodeKey } from './tree-nodes.ts';
export {
  consistencyProof,
  consistencyRanges,
  inclusionProof,
  inclusionRanges,
  type NodeReader,
  type Range,
  rangeHashes,
  treeRoot,
} from './tree-proofs.ts';
