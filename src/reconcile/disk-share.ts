import type { ObserverConfig } from '../config/index.ts';
import type { IndexRetention, IndexStorage } from '../index/index.ts';
import type { Metrics } from '../observability/index.ts';
import {
  floorBytes,
  freeUnderFloor,
  judgeSpace,
  type SpaceSettings,
  type SpaceVerdict,
  type VolumeReading,
} from './space-verdict.ts';

/** How long a namespace counts as having work after its last capture or attempt: 10 minutes. */
export const ACTIVE_WINDOW_MS = 10 * 60 * 1000;

export interface DiskShareOptions {
  index: Pick<IndexRetention, 'payloadBytes' | 'capturedBytes' | 'storageBytes'>;
  settings: SpaceSettings & {
    /** the volume's size (`index.volume-bytes`); 0 = what the index reports (SQLite's statfs) */
    volumeBytes: number;
  };
  /** gauges of the volume's free bytes and floor; default none */
  metrics?: Pick<Metrics, 'indexVolumeFree' | 'indexVolumeFloor'>;
  clock?: () => number;
}

/** Space held for an attempt in flight; released (once) when its outcome is stored. */
export interface SpaceGrant {
  verdict: SpaceVerdict;
  release(): Promise<void>;
}

/**
 * The index volume shared fairly among namespaces (space-verdict.ts says what fits). An attempt
 * reserves its envelope's bound before it starts and releases it once its outcome is in the index
 * (where the actual bytes are then counted); checks, reservations and releases run one at a time,
 * so no two attempts count the same free bytes and none counts a released reservation and its
 * stored bytes twice or not at all. Reservations are this replica's: with PostgreSQL and several
 * replicas, each may overshoot by its own attempts in flight (at most `workers` envelopes).
 */
export class DiskShare {
  readonly #o: DiskShareOptions;
  readonly #clock: () => number;
  readonly #reserved = new Map<string, number>();
  #reservedAll = 0;
  readonly #lastWork = new Map<string, number>();
  #turn: Promise<unknown> = Promise.resolve();

  constructor(options: DiskShareOptions) {
    this.#o = options;
    this.#clock = options.clock ?? Date.now;
  }

  /** Judges an attempt of `namespace` adding up to `needBytes`, and holds them when it fits. */
  reserve(namespace: string, needBytes: number): Promise<SpaceGrant> {
    return this.#serial(async () => {
      const verdict = await this.#judge(namespace, needBytes);
      if (verdict.kind !== 'fits') return { verdict, release: async () => {} };
      this.#hold(namespace, needBytes);
      let held = true;
      const release = () =>
        this.#serial(async () => {
          if (held) this.#hold(namespace, -needBytes);
          held = false;
        });
      return { verdict, release };
    });
  }

  /** Judges a capture of `namespace` adding `needBytes` (nothing is held: the write is one commit). */
  check(namespace: string, needBytes: number): Promise<SpaceVerdict> {
    return this.#serial(() => this.#judge(namespace, needBytes));
  }

  /** Namespaces with a capture or an attempt in the last ACTIVE_WINDOW_MS. */
  activeNamespaces(): number {
    const since = this.#clock() - ACTIVE_WINDOW_MS;
    for (const [ns, at] of this.#lastWork) if (at < since) this.#lastWork.delete(ns);
    return this.#lastWork.size;
  }

  async #judge(namespace: string, needBytes: number): Promise<SpaceVerdict> {
    const { settings } = this.#o;
    this.#lastWork.set(namespace, this.#clock());
    if (settings.capBytes === 0) return { kind: 'fits' };
    const volume = await this.#volume();
    const underFloor = freeUnderFloor(volume, settings, this.#reservedAll, needBytes);
    // the namespace's use is read only when a fixed cap or the floor makes it matter
    if (typeof settings.capBytes !== 'number' && underFloor === undefined) return { kind: 'fits' };
    const [payload, captured] = await Promise.all([
      this.#o.index.payloadBytes(namespace),
      this.#o.index.capturedBytes(namespace),
    ]);
    const facts = {
      usedBytes: payload + captured,
      reservedBytes: this.#reserved.get(namespace) ?? 0,
      needBytes,
      activeNamespaces: this.activeNamespaces(),
    };
    return judgeSpace(facts, settings, volume, underFloor);
  }

  /** The volume as configured or as the index sees it; undefined when neither says. */
  async #volume(): Promise<VolumeReading | undefined> {
    const { settings, metrics } = this.#o;
    if (settings.floorPercent === 0 && typeof settings.capBytes === 'number') return undefined;
    const volume = volumeOf(await this.#o.index.storageBytes(), settings.volumeBytes);
    metrics?.indexVolumeFree.set(volume ? Math.max(0, volume.freeBytes - this.#reservedAll) : 0);
    metrics?.indexVolumeFloor.set(floorBytes(volume, settings.floorPercent));
    return volume;
  }

  #hold(namespace: string, bytes: number): void {
    const now = (this.#reserved.get(namespace) ?? 0) + bytes;
    if (now > 0) this.#reserved.set(namespace, now);
    else this.#reserved.delete(namespace);
    this.#reservedAll += bytes;
  }

  #serial<T>(step: () => Promise<T>): Promise<T> {
    const next = this.#turn.then(step, step);
    this.#turn = next.catch(() => undefined);
    return next;
  }
}

/**
 * The usable volume: a configured size (its free part: that size less the database, and never
 * more than the file system has free), else the file system's as the index reads it.
 */
export function volumeOf(storage: IndexStorage, volumeBytes: number): VolumeReading | undefined {
  if (volumeBytes <= 0) return storage.volume;
  const free = volumeBytes - storage.databaseBytes;
  return {
    totalBytes: volumeBytes,
    freeBytes: Math.max(0, storage.volume ? Math.min(free, storage.volume.freeBytes) : free),
  };
}

/** The index volume's shares as the `index.*` space keys say (one per observer process). */
export function diskShareFromConfig(
  config: ObserverConfig,
  index: DiskShareOptions['index'],
  metrics: DiskShareOptions['metrics'],
): DiskShare {
  return new DiskShare({
    index,
    ...(metrics ? { metrics } : {}),
    settings: {
      capBytes: config.indexNamespacePayloadCapBytes,
      shareBytes: config.indexNamespaceShareBytes,
      floorPercent: config.indexFreeSpaceFloorPercent,
      volumeBytes: config.indexVolumeBytes,
    },
  });
}
