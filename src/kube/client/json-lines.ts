/**
 * Splits a byte stream of newline-delimited JSON (a watch body: one event per line) into lines,
 * whatever the chunk boundaries: a line split across chunks, a multi-byte character split across
 * chunks, several lines in one chunk. Empty lines are skipped.
 */
export class JsonLines {
  readonly #decoder = new TextDecoder();
  #rest = '';

  /** The lines completed by this chunk. */
  push(chunk: Uint8Array): string[] {
    const text = this.#rest + this.#decoder.decode(chunk, { stream: true });
    const lines = text.split('\n');
    this.#rest = lines.pop() ?? '';
    return lines.filter((l) => l.trim() !== '');
  }

  /** The last line, when the stream ended without a newline after it. */
  end(): string[] {
    const last = this.#rest + this.#decoder.decode();
    this.#rest = '';
    return last.trim() === '' ? [] : [last];
  }
}
