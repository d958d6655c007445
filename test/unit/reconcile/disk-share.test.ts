import { describe, expect, it } from 'vitest';
import type { IndexStorage } from '../../../src/index/index.ts';
import { ACTIVE_WINDOW_MS, DiskShare, volumeOf } from '../../../src/reconcile/index.ts';

/** An index whose usage is a table the test edits, on a volume of `total` bytes. */
function fakeIndex(total: number) {
  const used = new Map<string, number>();
  const captured = new Map<string, number>();
  let reads = 0;
  const index = {
    payloadBytes: async (ns: string) => used.get(ns) ?? 0,
    capturedBytes: async (ns: string) => captured.get(ns) ?? 0,
    storageBytes: async (): Promise<IndexStorage> => {
      reads++;
      // yields, as a real read does, so concurrent checks interleave unless serialised
      await new Promise((r) => setTimeout(r, 1));
      const inUse = [...used.values(), ...captured.values()].reduce((a, b) => a + b, 0);
      return { databaseBytes: inUse, volume: { totalBytes: total, freeBytes: total - inUse } };
    },
  };
  return { index, used, captured, reads: () => reads };
}

describe('DiskShare', () => {
  it('concurrent attempts under a fixed cap cannot overshoot it: the ones that do not fit wait', async () => {
    const { index } = fakeIndex(1_000_000);
    const share = new DiskShare({
      index,
      settings: { capBytes: 1000, shareBytes: 'auto', floorPercent: 0, volumeBytes: 0 },
    });
    const grants = await Promise.all(Array.from({ length: 5 }, () => share.reserve('a', 400)));
    // two fit together (800); a third would pass the cap with them in flight
    expect(grants.map((g) => g.verdict.kind)).toEqual(['fits', 'fits', 'wait', 'wait', 'wait']);
    await grants[0]?.release();
    await grants[0]?.release(); // once only
    expect((await share.reserve('a', 400)).verdict.kind).toBe('fits');
    expect((await share.reserve('a', 400)).verdict.kind).toBe('wait');
  });

  it('under the floor, concurrent attempts of a namespace over its share are deferred; another namespace goes on', async () => {
    const { index, used } = fakeIndex(10_000); // floor 1000
    used.set('greedy', 8000);
    const share = new DiskShare({
      index,
      settings: { capBytes: 'auto', shareBytes: 'auto', floorPercent: 10, volumeBytes: 0 },
    });
    // free 2000: two reservations of 600 take it under the floor; the rest see them
    const greedy = await Promise.all(Array.from({ length: 3 }, () => share.reserve('greedy', 600)));
    expect(greedy.map((g) => g.verdict.kind)).toEqual(['fits', 'over-share', 'over-share']);
    const other = await share.reserve('quiet', 600);
    expect(other.verdict.kind).toBe('fits'); // 600 of a 4500 share (2 active)
    expect(share.activeNamespaces()).toBe(2);
  });

  it('captured copies count toward the namespace', async () => {
    const { index, captured } = fakeIndex(10_000);
    captured.set('a', 5000);
    const share = new DiskShare({
      index,
      settings: { capBytes: 5000, shareBytes: 'auto', floorPercent: 0, volumeBytes: 0 },
    });
    expect((await share.check('a', 1)).kind).toBe('over-cap');
  });

  it('with plenty of space and no fixed cap, the namespace use is not read at all', async () => {
    const { index } = fakeIndex(1_000_000);
    let usageReads = 0;
    const counting = { ...index, payloadBytes: async () => (usageReads++, 0) };
    const share = new DiskShare({
      index: counting,
      settings: { capBytes: 'auto', shareBytes: 'auto', floorPercent: 10, volumeBytes: 0 },
    });
    await share.reserve('a', 100);
    expect(usageReads).toBe(0);
  });

  it('a namespace stops counting as active after the window', async () => {
    let now = 0;
    const { index } = fakeIndex(1000);
    const share = new DiskShare({
      index,
      clock: () => now,
      settings: { capBytes: 'auto', shareBytes: 'auto', floorPercent: 10, volumeBytes: 0 },
    });
    await share.check('a', 1);
    now = ACTIVE_WINDOW_MS / 2;
    await share.check('b', 1);
    expect(share.activeNamespaces()).toBe(2);
    now = ACTIVE_WINDOW_MS + 1;
    expect(share.activeNamespaces()).toBe(1);
  });

  it('a configured volume size bounds the file system: free is that size less the database', () => {
    const fs = { databaseBytes: 300, volume: { totalBytes: 1e9, freeBytes: 5e8 } };
    expect(volumeOf(fs, 0)).toEqual(fs.volume);
    expect(volumeOf(fs, 1000)).toEqual({ totalBytes: 1000, freeBytes: 700 });
    expect(volumeOf({ databaseBytes: 300 }, 1000)).toEqual({ totalBytes: 1000, freeBytes: 700 });
    expect(volumeOf({ databaseBytes: 300 }, 0)).toBeUndefined();
    expect(volumeOf({ databaseBytes: 300, volume: { totalBytes: 1e9, freeBytes: 100 } }, 1000)).toEqual({
      totalBytes: 1000,
      freeBytes: 100,
    });
  });
});
