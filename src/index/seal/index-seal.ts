import { createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { RunKey } from '../../tekton/index.ts';

/** The index tables whose rows lead to a signature, and so are sealed. */
export type SealedTable = 'run_captures' | 'run_evidence' | 'run_sightings';

/**
 * Why a row failed its seal: none at all (written by someone else, or before sealing existed), one
 * made with a key this observer does not hold (forged, or made under a key rotated out since), one
 * that does not match the row (the row was edited after it was sealed).
 */
export type SealBreak = 'unsealed' | 'unknown_key' | 'mismatch';

/** A row that failed its seal, as reported (never its content). */
export interface BrokenSeal {
  table: SealedTable;
  uid: string;
  /** the run the row names, when the row names one */
  run?: RunKey;
  reason: SealBreak;
}

/** The keys a seal is made and checked with: raw secrets of at least 32 bytes. */
export interface SealSecrets {
  /** seals new rows; rows sealed with it verify */
  current: Uint8Array;
  /** rows sealed with these still verify (a rotation's previous key); nothing new is sealed with them */
  previous?: readonly Uint8Array[];
}

const VERSION = 's1';
const INFO = 'provenance-observer index row seal v1';
/** In-memory previous keys kept across rotations within one process (beside the Secret's own). */
const MAX_REMEMBERED = 4;

interface SealKey {
  id: string;
  key: Buffer;
}

/**
 * Seals index rows with HMAC-SHA256, so the index is not a root of trust: whoever can write to the
 * database (or sits between the observer and it) cannot add or edit a row the observer would sign
 * from. A seal is `s1.<key id>.<mac>`: the key id (16 hex of SHA-256 of the derived key) chooses
 * the key, the MAC covers the table name and every field, each length-prefixed, so no field can
 * shift into another and no row can pose as one of another table.
 *
 * Keys are derived (HKDF-SHA256) from secrets in the observer's own signing Secret
 * (`index-seal.ts` says which), set with `setSecrets` at every reload. Until the first one, a
 * random per-process key seals (so a process that never loads the Secret still works on what it
 * captured itself). Keys replaced by a rotation are remembered for verification, up to four.
 */
export class IndexSeal {
  #current: SealKey;
  #verifiers: SealKey[];
  /** told about every row that fails its seal (metric, log, Event); default nothing */
  onBroken: (broken: BrokenSeal) => void = () => undefined;

  constructor(options: { secret?: Uint8Array } = {}) {
    this.#current = derive(options.secret ?? randomBytes(32));
    this.#verifiers = [this.#current];
  }

  /** The id of the key that seals now (for logs and tests; not secret). */
  get keyId(): string {
    return this.#current.id;
  }

  /** Seals with `secrets.current` from now on; rows under the old keys and `previous` still verify. */
  setSecrets(secrets: SealSecrets): void {
    const current = derive(secrets.current);
    const previous = (secrets.previous ?? []).map(derive);
    const remembered = this.#verifiers.filter((k) => k.id !== current.id).slice(0, MAX_REMEMBERED);
    this.#current = current;
    this.#verifiers = unique([current, ...previous, ...remembered]);
  }

  seal(table: SealedTable, fields: readonly (string | number)[]): string {
    return `${VERSION}.${this.#current.id}.${mac(this.#current.key, table, fields)}`;
  }

  /** undefined when `seal` is this row's, else why not. */
  check(
    table: SealedTable,
    fields: readonly (string | number)[],
    seal: string | null | undefined,
  ): SealBreak | undefined {
    if (!seal) return 'unsealed';
    const [version, id, given] = seal.split('.');
    const key = this.#verifiers.find((k) => k.id === id);
    if (version !== VERSION || !key || !given) return 'unknown_key';
    const expected = Buffer.from(mac(key.key, table, fields), 'base64url');
    const actual = Buffer.from(given, 'base64url');
    return actual.length === expected.length && timingSafeEqual(actual, expected) ? undefined : 'mismatch';
  }

  /** check(), and a broken row reported through onBroken; true when the row may be used. */
  verify(
    table: SealedTable,
    fields: readonly (string | number)[],
    seal: string | null | undefined,
    about: Omit<BrokenSeal, 'table' | 'reason'>,
  ): boolean {
    const reason = this.check(table, fields, seal);
    if (reason === undefined) return true;
    this.onBroken({ table, ...about, reason });
    return false;
  }
}

function derive(secret: Uint8Array): SealKey {
  const key = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), INFO, 32));
  return { id: createHash('sha256').update(key).digest('hex').slice(0, 16), key };
}

function mac(key: Buffer, table: SealedTable, fields: readonly (string | number)[]): string {
  const h = createHmac('sha256', key);
  for (const field of [table, ...fields]) {
    const bytes = Buffer.from(typeof field === 'number' ? `n:${field}` : `s:${field}`, 'utf8');
    const length = Buffer.alloc(8);
    length.writeBigUInt64BE(BigInt(bytes.length));
    h.update(length).update(bytes);
  }
  return h.digest('base64url');
}

function unique(keys: SealKey[]): SealKey[] {
  return keys.filter((k, i) => keys.findIndex((o) => o.id === k.id) === i);
}
