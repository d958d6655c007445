import { statfs } from 'node:fs/promises';

/** How long one statfs of the index's volume is reused: 1 s. */
export const VOLUME_READING_MS = 1000;

export interface Volume {
  totalBytes: number;
  freeBytes: number;
}

/**
 * The index's volume, read with statfs at most once per VOLUME_READING_MS. Every attempt and every
 * capture asks (disk-share.ts), and the system call was a tenth of the index's CPU per run. Between
 * readings the free bytes are the last reading less what the database file grew since (our own
 * writes, the only ones that second that this process can see), so a full disk is still met by
 * the next reading at the latest, never overlooked for longer than one second of other writers.
 */
export class VolumeReading {
  readonly #dir: string;
  readonly #now: () => number;
  readonly #read: (dir: string) => Promise<{ blocks: number; bsize: number; bavail: number }>;
  #last?: { at: number; volume: Volume; fileBytes: number };

  constructor(options: {
    dir: string;
    /** a monotonic clock in ms; default performance.now (not the index's clock: this is real time) */
    now?: () => number;
    read?: (dir: string) => Promise<{ blocks: number; bsize: number; bavail: number }>;
  }) {
    this.#dir = options.dir;
    this.#now = options.now ?? (() => performance.now());
    this.#read = options.read ?? ((dir) => statfs(dir));
  }

  /** The volume, given the database file's size now (pages × page size). */
  async volume(fileBytes: number): Promise<Volume> {
    const now = this.#now();
    const last = this.#last;
    if (last && now >= last.at && now - last.at < VOLUME_READING_MS) {
      const grown = Math.max(0, fileBytes - last.fileBytes);
      return { totalBytes: last.volume.totalBytes, freeBytes: Math.max(0, last.volume.freeBytes - grown) };
    }
    const fs = await this.#read(this.#dir);
    const volume = { totalBytes: fs.blocks * fs.bsize, freeBytes: fs.bavail * fs.bsize };
    this.#last = { at: now, volume, fileBytes };
    return volume;
  }
}
