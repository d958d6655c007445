/**
 * The disk-share accounting, pure: whether new work of a namespace fits in the index's volume.
 * A fixed cap (`index.namespace-payload-cap-bytes`) is checked always; the fair share only while
 * the volume's free space, less what attempts in flight reserved, is under the floor.
 */

/** The reason code of a run or capture deferred because its namespace is over its share of a low disk. */
export const NAMESPACE_SHARE_REASON = 'namespace_disk_share';

export interface SpaceSettings {
  /** a fixed cap in bytes, `auto` (none: only the share under the floor), or 0 (no cap, no share) */
  capBytes: number | 'auto';
  /** the share override in bytes, or `auto` (fairShareBytes) */
  shareBytes: number | 'auto';
  /** the part of the volume kept free, in percent; 0 = no floor */
  floorPercent: number;
}

/** The volume under the index: its usable size and what is free now. */
export interface VolumeReading {
  totalBytes: number;
  freeBytes: number;
}

export interface SpaceFacts {
  /** what the namespace holds in the index: envelopes and captured copies */
  usedBytes: number;
  /** reserved by the namespace's attempts in flight */
  reservedBytes: number;
  /** what the new work may add */
  needBytes: number;
  /** namespaces with work now, this one included */
  activeNamespaces: number;
}

export type SpaceVerdict =
  | { kind: 'fits' }
  /** the fixed cap is reached by what is stored: refused for good (the cap's existing semantics) */
  | { kind: 'over-cap'; usedBytes: number; capBytes: number }
  /** the fixed cap is reached only with attempts in flight: come back once they settled */
  | { kind: 'wait'; usedBytes: number; reservedBytes: number; capBytes: number }
  /** free space under the floor and the namespace over its share: deferred until space frees */
  | { kind: 'over-share'; usedBytes: number; shareBytes: number; freeBytes: number; floorBytes: number };

/** The floor in bytes of a volume; 0 when off or the volume is unknown. */
export function floorBytes(volume: VolumeReading | undefined, floorPercent: number): number {
  return volume ? Math.floor((volume.totalBytes * floorPercent) / 100) : 0;
}

/**
 * Free bytes once attempts in flight (`reservedAllBytes`) and the new work (`needBytes`) land,
 * when that is under the floor; undefined while it is not (or no floor applies).
 */
export function freeUnderFloor(
  volume: VolumeReading | undefined,
  settings: SpaceSettings,
  reservedAllBytes: number,
  needBytes: number,
): number | undefined {
  if (!volume || settings.floorPercent === 0 || settings.capBytes === 0) return undefined;
  const free = volume.freeBytes - reservedAllBytes - needBytes;
  return free < floorBytes(volume, settings.floorPercent) ? free : undefined;
}

/** The usable volume (its size less the floor) split evenly among the namespaces with work. */
export function fairShareBytes(
  volume: VolumeReading,
  floorPercent: number,
  activeNamespaces: number,
): number {
  const usable = volume.totalBytes - floorBytes(volume, floorPercent);
  return Math.max(0, Math.floor(usable / Math.max(1, activeNamespaces)));
}

/**
 * The verdict on new work of a namespace. The fixed cap: stored bytes at it refuse; with attempts
 * in flight the stored, reserved and needed bytes together must fit (else `wait`), so concurrent
 * attempts never overshoot it; alone, an attempt may pass it by its own envelope (as before).
 * Under the floor (`freeUnderFloorBytes` defined) a namespace whose stored, reserved and needed
 * bytes exceed its share is deferred; one within its share keeps working.
 */
export function judgeSpace(
  facts: SpaceFacts,
  settings: SpaceSettings,
  volume: VolumeReading | undefined,
  freeUnderFloorBytes: number | undefined,
): SpaceVerdict {
  const { usedBytes, reservedBytes, needBytes } = facts;
  const cap = settings.capBytes;
  if (cap === 0) return { kind: 'fits' };
  if (typeof cap === 'number') {
    if (usedBytes >= cap) return { kind: 'over-cap', usedBytes, capBytes: cap };
    if (reservedBytes > 0 && usedBytes + reservedBytes + needBytes > cap)
      return { kind: 'wait', usedBytes, reservedBytes, capBytes: cap };
  }
  if (freeUnderFloorBytes === undefined || !volume) return { kind: 'fits' };
  const share =
    settings.shareBytes === 'auto'
      ? fairShareBytes(volume, settings.floorPercent, facts.activeNamespaces)
      : settings.shareBytes;
  if (usedBytes + reservedBytes + needBytes <= share) return { kind: 'fits' };
  return {
    kind: 'over-share',
    usedBytes,
    shareBytes: share,
    freeBytes: Math.max(0, freeUnderFloorBytes + needBytes),
    floorBytes: floorBytes(volume, settings.floorPercent),
  };
}
