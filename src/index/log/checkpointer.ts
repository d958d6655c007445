import {
  assembleNote,
  checkpointText,
  type NodeId,
  noteKeyOf,
  signatureLine,
  treeRoot,
} from '../../log/index.ts';
import type { Signer } from '../../signing/index.ts';
import type { DecisionLog, StoredCheckpoint } from './decision-log.ts';

export interface LogCheckpointerOptions {
  log: Pick<DecisionLog, 'logSize' | 'logNodes' | 'putCheckpoint' | 'checkpoints'>;
  /** `decision-log.origin`: the checkpoint's first line and its signature's key name */
  origin: string;
  /** the platform key (Ed25519 or ECDSA P-256); undefined while none is loaded */
  signer: () => Signer | undefined;
  clock: () => number;
}

/**
 * Signs the decision log's tree head as a C2SP checkpoint (log/checkpoint.ts) with the platform
 * key and keeps it in the index; replicas may all do so, the first checkpoint of a size is kept.
 * Fails with a clear message when no key is loaded or the key cannot sign notes (RSA, P-384, …).
 */
export class LogCheckpointer {
  readonly #o: LogCheckpointerOptions;

  constructor(options: LogCheckpointerOptions) {
    this.#o = options;
  }

  /** The newest checkpoint, signing the current head first when the newest is older. */
  async checkpoint(): Promise<StoredCheckpoint> {
    const { log, origin, clock } = this.#o;
    const size = await log.logSize();
    const [newest] = await log.checkpoints(1);
    if (newest && newest.size >= size) return newest;
    const signer = this.#o.signer();
    if (!signer?.publicKeyPem)
      throw new Error('signing a checkpoint: no signing key is loaded (keyless cannot sign checkpoints)');
    const key = noteKeyOf(origin, signer.publicKeyPem);
    const rootHash = await treeRoot((ids: readonly NodeId[]) => log.logNodes(ids), size);
    const createdAt = new Date(clock());
    const text = checkpointText({ origin, size, rootHash, extensions: [`time ${createdAt.toISOString()}`] });
    const { signature } = await signer.sign(Buffer.from(text));
    await log.putCheckpoint({ size, note: assembleNote(text, [signatureLine(key, signature)]), createdAt });
    const [kept] = await log.checkpoints(1);
    return kept as StoredCheckpoint;
  }
}
