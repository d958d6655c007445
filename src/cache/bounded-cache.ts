export interface BoundedCacheOptions {
  /** at most this many entries; when full, the least recently used goes first (at least 1) */
  maxEntries: number;
  /** entries expire this long after being set; default: never (an LRU only) */
  ttlMs?: number;
  /** injected clock (ms), so tests control time; default Date.now */
  now?: () => number;
}

/**
 * The one in-memory cache of the service: bounded by entry count, least recently used first out,
 * with an optional time to live (per cache, or per entry in `set`). A Map keeps insertion order,
 * so a hit re-inserts its entry and the first key is always the least recently used. An expired
 * entry reads as absent and is dropped when read. Keys are strings: callers hash or join what
 * identifies an entry (and never keep secrets in keys).
 */
export class BoundedCache<V> {
  readonly #entries = new Map<string, { value: V; expires: number }>();
  readonly #maxEntries: number;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(options: BoundedCacheOptions) {
    this.#maxEntries = Math.max(1, options.maxEntries);
    this.#ttlMs = options.ttlMs ?? Number.POSITIVE_INFINITY;
    this.#now = options.now ?? Date.now;
  }

  /** The value, or undefined when absent or expired; a hit makes the entry the most recently used. */
  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    this.#entries.delete(key);
    if (entry.expires <= this.#now()) return undefined;
    this.#entries.set(key, entry);
    return entry.value;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /** Sets the value (most recently used), expiring after `ttlMs` (default: the cache's). */
  set(key: string, value: V, ttlMs = this.#ttlMs): void {
    this.#entries.delete(key);
    this.#entries.set(key, { value, expires: this.#now() + ttlMs });
    while (this.#entries.size > this.#maxEntries)
      this.#entries.delete(this.#entries.keys().next().value as string);
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  /** Entries held, expired ones not yet read included. */
  get size(): number {
    return this.#entries.size;
  }
}
