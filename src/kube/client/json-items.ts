import { Tokenizer, TokenType } from '@streamparser/json';

/**
 * A run object larger than this (its JSON bytes in a list or watch body) is handled from its
 * metadata: the rest of it is not kept while it streams past, and it is reported instead of
 * observed. The apiserver stores a custom resource as JSON in etcd, whose request limit is 1.5 MiB
 * by default (--max-request-bytes), so an object over 2 MiB only exists where that limit was raised.
 */
export const MAX_ITEM_BYTES = 2 * 1024 * 1024;

/** The metadata fields an oversized item keeps: enough to name it, report it and resume a watch. */
const KEPT_METADATA = new Set(['name', 'namespace', 'uid', 'resourceVersion']);

/** One object of a list or watch body, as it finished streaming. */
export interface StreamedItem {
  /** the object; only `{ metadata: { name, namespace, uid, resourceVersion } }` when oversized */
  value: Record<string, unknown>;
  /** its JSON bytes in the body */
  bytes: number;
  /** over MAX_ITEM_BYTES (or the stream's own bound): only its metadata was kept */
  oversized: boolean;
}

/** Where items are in a document: list items (`$.items.*`) or watch event objects (`$.object`). */
export type ItemPlace = 'list' | 'watch';

type Key = string | number;
interface Frame {
  /** the container being built; undefined when dropped (an oversized item's spec, status, …) */
  container: Record<string, unknown> | unknown[] | undefined;
  array: boolean;
  /** the index of an array's next element (kept or not) */
  index: number;
  /** the key the next value of an object goes under, once its name was read */
  pending: string | undefined;
  /** its key in the parent frame */
  key: Key | undefined;
  /** set on the frame at which an item started */
  item?: { start: number; oversized: boolean };
}

/**
 * Parses a list or watch body as it streams, with @streamparser/json's tokenizer (a well-kept,
 * dependency-free streaming JSON tokenizer: only tokens and one string at a time are buffered), and
 * assembles one item at a time: the document around the items (kind, list metadata, the watch
 * event's type) is kept, each item is handed on once complete and never attached to the document,
 * so one object, not one page, is the unit in memory. An item that grows past `maxItemBytes` is
 * cut to its metadata as soon as it does, and whatever of it still streams past is not kept.
 */
export class JsonItemStream {
  readonly #tokenizer: Tokenizer;
  readonly #stack: Frame[] = [];
  readonly #place: ItemPlace;
  readonly #maxItemBytes: number;
  #root: Record<string, unknown> | undefined;
  /** the item being assembled (its frame and its place in the stack) */
  #item: { frame: Frame; depth: number } | undefined;
  #watchItem: StreamedItem | undefined;
  readonly #onItem: (item: StreamedItem, document: Record<string, unknown>) => void;
  readonly #onDocument: (document: Record<string, unknown>, item: StreamedItem | undefined) => void;

  /**
   * `onItem`: each list item (with the list document so far); `onDocument`: each complete
   * top-level document, with its watch object when `place` is 'watch' (a list's items were handed on).
   */
  constructor(options: {
    place: ItemPlace;
    onItem?: (item: StreamedItem, document: Record<string, unknown>) => void;
    onDocument?: (document: Record<string, unknown>, item: StreamedItem | undefined) => void;
    maxItemBytes?: number;
  }) {
    this.#place = options.place;
    this.#maxItemBytes = options.maxItemBytes ?? MAX_ITEM_BYTES;
    this.#onItem = options.onItem ?? (() => {});
    this.#onDocument = options.onDocument ?? (() => {});
    this.#tokenizer = new Tokenizer(options.place === 'watch' ? { separator: '\n' } : {});
    this.#tokenizer.onToken = ({ token, value, offset }) => this.#token(token, value, offset);
  }

  /** Feeds a chunk; items and documents it completes are handed on before this returns. Throws on invalid JSON. */
  write(chunk: Uint8Array | string): void {
    this.#tokenizer.write(chunk);
  }

  /** The body ended: throws when a document was left unfinished. */
  end(): void {
    if (!this.#tokenizer.isEnded) this.#tokenizer.end();
    if (this.#stack.length > 0) throw new Error('the body ended inside a JSON document');
  }

  #token(token: TokenType, value: unknown, offset: number): void {
    const item = this.#item?.frame.item;
    if (item && !item.oversized && offset - item.start > this.#maxItemBytes) this.#cut();
    switch (token) {
      case TokenType.LEFT_BRACE:
        this.#open(false, offset);
        return;
      case TokenType.LEFT_BRACKET:
        this.#open(true, offset);
        return;
      case TokenType.RIGHT_BRACE:
      case TokenType.RIGHT_BRACKET:
        this.#close(offset);
        return;
      case TokenType.STRING: {
        const top = this.#stack.at(-1);
        if (top && !top.array && top.pending === undefined) {
          top.pending = value as string; // a member's name
          return;
        }
        this.#value(value);
        return;
      }
      case TokenType.NUMBER:
      case TokenType.TRUE:
      case TokenType.FALSE:
      case TokenType.NULL:
        this.#value(value);
        return;
      default:
        return; // COLON, COMMA, SEPARATOR: the stack holds the structure
    }
  }

  #open(array: boolean, offset: number): void {
    const parent = this.#stack.at(-1);
    const key = parent && (parent.array ? parent.index : parent.pending);
    const container = array ? [] : {};
    const frame: Frame = { container, array, index: 0, pending: undefined, key };
    if (parent && this.#startsItem(key)) {
      frame.item = { start: offset, oversized: false };
      this.#item = { frame, depth: this.#stack.length };
    } else if (!parent) {
      this.#root = container as Record<string, unknown>;
    } else if (this.#keeps(parent, key)) {
      attach(parent, key, container);
    } else {
      frame.container = undefined;
    }
    this.#stack.push(frame);
  }

  #close(offset: number): void {
    const frame = this.#stack.pop();
    if (!frame) return;
    const parent = this.#stack.at(-1);
    if (parent) advance(parent);
    if (frame.item) {
      this.#item = undefined;
      const item: StreamedItem = {
        value: frame.container as Record<string, unknown>,
        bytes: offset + 1 - frame.item.start,
        oversized: frame.item.oversized,
      };
      if (this.#place === 'watch') this.#watchItem = item;
      else this.#onItem(item, this.#root ?? {});
      return;
    }
    if (parent) return;
    const [root, item] = [this.#root ?? {}, this.#watchItem];
    this.#root = undefined;
    this.#watchItem = undefined;
    this.#onDocument(root, item);
  }

  #value(value: unknown): void {
    const top = this.#stack.at(-1);
    if (!top) return;
    const key = top.array ? top.index : top.pending;
    if (this.#keeps(top, key)) attach(top, key, value);
    advance(top);
  }

  /** Whether a container opening at `key` of the top frame starts an item. */
  #startsItem(key: Key | undefined): boolean {
    const depth = this.#stack.length;
    if (this.#place === 'watch') return depth === 1 && key === 'object';
    return depth === 2 && typeof key === 'number' && this.#stack[1].key === 'items';
  }

  /**
   * Whether a value at `key` of `frame` is kept: always, unless inside an oversized item, where only
   * its metadata object and the KEPT_METADATA fields in it are.
   */
  #keeps(frame: Frame, key: Key | undefined): boolean {
    if (frame.container === undefined) return false;
    const item = this.#item;
    if (!item?.frame.item?.oversized) return true;
    if (frame === item.frame) return key === 'metadata';
    return (
      this.#stack[item.depth + 1] === frame && frame.key === 'metadata' && KEPT_METADATA.has(String(key))
    );
  }

  /** The item grew past the bound: keep its metadata's names only, drop the rest as it streams past. */
  #cut(): void {
    const at = this.#item;
    if (!at?.frame.item) return;
    at.frame.item.oversized = true;
    const built = at.frame.container as Record<string, unknown>;
    const metadata = (built.metadata ?? {}) as Record<string, unknown>;
    const kept: Record<string, unknown> = {};
    for (const k of KEPT_METADATA) if (typeof metadata[k] === 'string') kept[k] = metadata[k];
    at.frame.container = built.metadata === undefined ? {} : { metadata: kept };
    for (let i = at.depth + 1; i < this.#stack.length; i++) {
      const f = this.#stack[i];
      f.container = i === at.depth + 1 && f.key === 'metadata' ? kept : undefined;
    }
  }
}

function attach(frame: Frame, key: Key | undefined, value: unknown): void {
  if (Array.isArray(frame.container)) frame.container.push(value);
  else if (frame.container && key !== undefined) frame.container[key as string] = value;
}

/** A member or element of `frame` is complete. */
function advance(frame: Frame): void {
  if (frame.array) frame.index++;
  else frame.pending = undefined;
}
