import { readFileSync, statSync } from 'node:fs';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { ObserverError } from '../errors.ts';
import type { Logger } from '../observability/index.ts';

export interface TlsFileReloaderOptions {
  /** PEM certificate chain (leaf first), e.g. `tls.crt` of a kubernetes.io/tls Secret */
  certFile: string;
  /** PEM private key of the leaf, e.g. `tls.key` */
  keyFile: string;
  logger: Logger;
  /** how often the files are checked for a change; default 10 000 ms */
  intervalMs?: number;
}

const UNREADABLE = 'unreadable';

/** What a TLS server offers to swap its certificate in place (node:tls Server). */
export interface SecureContextTarget {
  setSecureContext(options: SecureContextOptions): void;
}

/**
 * Serves the certificate and key in two files and follows them when they change, without a
 * restart: new connections get the new pair, open ones keep theirs. Built for Secret volumes,
 * where the kubelet swaps a symlinked directory, so the files' inode and mtime change (fs.watch
 * misses that; polling stat does not).
 *
 * A changed pair is served only once it loads as a whole (cert and key parse and match): a pair
 * read half-way through an update is skipped with a warning and read again on the next check, and
 * the previous pair stays in service. The first `load` fails (config_invalid, naming the files).
 * The files are read here rather than in config/ because they change while the process runs.
 */
export class TlsFileReloader {
  readonly #options: TlsFileReloaderOptions;
  #version = '';
  /** the stamp of files that did not load, so they are warned about once, not on every check */
  #rejected = '';
  #timer: NodeJS.Timeout | undefined;

  constructor(options: TlsFileReloaderOptions) {
    this.#options = options;
  }

  /** Reads the pair for the server's first context. */
  load(): { cert: Buffer; key: Buffer } {
    try {
      this.#version = this.#stamp();
      return this.#read();
    } catch (err) {
      const { certFile, keyFile } = this.#options;
      throw new ObserverError(
        `reading the API's TLS certificate ${certFile} and key ${keyFile}: ${(err as Error).message}`,
        { code: 'config_invalid', retryable: false },
      );
    }
  }

  /** Checks the files every `intervalMs` and swaps `target`'s context when they changed. */
  start(target: SecureContextTarget): void {
    this.stop();
    this.#timer = setInterval(() => this.reload(target), this.#options.intervalMs ?? 10_000);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One check; true when a new pair is now served. */
  reload(target: SecureContextTarget): boolean {
    const { logger, certFile } = this.#options;
    let stamp: string;
    try {
      stamp = this.#stamp();
    } catch (err) {
      if (this.#rejected !== UNREADABLE)
        logger.warn(
          { err: (err as Error).message, certFile },
          'API certificate files unreadable; keeping the served pair',
        );
      this.#rejected = UNREADABLE;
      return false;
    }
    if (stamp === this.#version || stamp === this.#rejected) return false;
    try {
      const pair = this.#read();
      target.setSecureContext(pair);
      this.#version = stamp;
      logger.info({ certFile }, 'API certificate reloaded');
      return true;
    } catch (err) {
      this.#rejected = stamp;
      logger.warn(
        { err: (err as Error).message, certFile },
        'API certificate files changed but do not load; keeping the served pair',
      );
      return false;
    }
  }

  /** Reads and test-loads both files; throws when they do not make a usable pair. */
  #read(): { cert: Buffer; key: Buffer } {
    const pair = { cert: readFileSync(this.#options.certFile), key: readFileSync(this.#options.keyFile) };
    createSecureContext(pair); // throws on unparsable PEM or a key that does not match the certificate
    return pair;
  }

  /** Identity of the files' current contents as stat sees them (symlinks followed). */
  #stamp(): string {
    return [this.#options.certFile, this.#options.keyFile]
      .map((f) => {
        const s = statSync(f, { bigint: true });
        return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}`;
      })
      .join('|');
  }
}
