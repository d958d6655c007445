import { describe, expect, it } from 'vitest';
import { VOLUME_READING_MS, VolumeReading } from '../../../src/index/sqlite/volume-reading.ts';

function reader(bavail: number[]) {
  let t = 0;
  const reads: number[] = [];
  const volume = new VolumeReading({
    dir: '/index',
    now: () => t,
    read: async () => {
      reads.push(t);
      return { blocks: 1000, bsize: 100, bavail: bavail[reads.length - 1] ?? 0 };
    },
  });
  return { volume, reads, at: (ms: number) => (t = ms) };
}

describe('VolumeReading', () => {
  it('reads the volume once per second, and counts the file growth in between as used', async () => {
    const r = reader([500, 200]);
    expect(await r.volume.volume(4096)).toEqual({ totalBytes: 100_000, freeBytes: 50_000 });
    r.at(400);
    expect(await r.volume.volume(4096 + 8192)).toEqual({ totalBytes: 100_000, freeBytes: 50_000 - 8192 });
    r.at(VOLUME_READING_MS - 1);
    // a file that shrank (a checkpoint) frees nothing until the next reading says so
    expect(await r.volume.volume(1024)).toEqual({ totalBytes: 100_000, freeBytes: 50_000 });
    expect(r.reads).toEqual([0]);
    r.at(VOLUME_READING_MS);
    expect(await r.volume.volume(1024)).toEqual({ totalBytes: 100_000, freeBytes: 20_000 });
    expect(r.reads).toEqual([0, VOLUME_READING_MS]);
  });

  it('never reports less than nothing free, and reads again when the clock goes back', async () => {
    const r = reader([1, 1]);
    await r.volume.volume(0);
    r.at(10);
    expect((await r.volume.volume(1_000_000)).freeBytes).toBe(0);
    r.at(-5);
    await r.volume.volume(0);
    expect(r.reads).toEqual([0, -5]);
  });
});
