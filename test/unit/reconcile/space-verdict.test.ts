import { describe, expect, it } from 'vitest';
import {
  fairShareBytes,
  floorBytes,
  freeUnderFloor,
  judgeSpace,
  type SpaceSettings,
} from '../../../src/reconcile/index.ts';

const auto: SpaceSettings = { capBytes: 'auto', shareBytes: 'auto', floorPercent: 10 };
const volume = { totalBytes: 1000, freeBytes: 50 }; // floor 100: under it
const facts = { usedBytes: 0, reservedBytes: 0, needBytes: 10, activeNamespaces: 2 };

describe('space verdict (pure accounting)', () => {
  it('the fair share is the volume less the floor, split among the namespaces with work', () => {
    expect(floorBytes(volume, 10)).toBe(100);
    expect(fairShareBytes(volume, 10, 2)).toBe(450);
    expect(fairShareBytes(volume, 10, 0)).toBe(900); // none active yet: one
    expect(floorBytes(undefined, 10)).toBe(0);
  });

  it('free space counts the reservations in flight and the new work against the floor', () => {
    const plenty = { totalBytes: 1000, freeBytes: 500 };
    expect(freeUnderFloor(plenty, auto, 0, 10)).toBeUndefined();
    expect(freeUnderFloor(plenty, auto, 395, 10)).toBe(95); // 500 - 395 - 10 < 100
    expect(freeUnderFloor(plenty, { ...auto, floorPercent: 0 }, 495, 10)).toBeUndefined();
    expect(freeUnderFloor(plenty, { ...auto, capBytes: 0 }, 495, 10)).toBeUndefined();
    expect(freeUnderFloor(undefined, auto, 0, 10)).toBeUndefined();
  });

  it('above the floor every namespace fits, whatever it holds', () => {
    expect(judgeSpace({ ...facts, usedBytes: 10_000 }, auto, volume, undefined)).toEqual({ kind: 'fits' });
  });

  it('under the floor a namespace over its share is deferred, one within it keeps working', () => {
    const under = freeUnderFloor(volume, auto, 0, 10);
    expect(judgeSpace({ ...facts, usedBytes: 600 }, auto, volume, under)).toEqual({
      kind: 'over-share',
      usedBytes: 600,
      shareBytes: 450,
      freeBytes: 50,
      floorBytes: 100,
    });
    expect(judgeSpace({ ...facts, usedBytes: 100 }, auto, volume, under)).toEqual({ kind: 'fits' });
    // its own attempts in flight count toward its share
    expect(judgeSpace({ ...facts, usedBytes: 100, reservedBytes: 400 }, auto, volume, under).kind).toBe(
      'over-share',
    );
    // an explicit share overrides the computed one
    const fixed = { ...auto, shareBytes: 50 };
    expect(judgeSpace({ ...facts, usedBytes: 100 }, fixed, volume, under).kind).toBe('over-share');
  });

  it('a fixed cap refuses at the stored bytes and waits for attempts in flight, never overshooting with them', () => {
    const cap = { ...auto, capBytes: 100 };
    expect(judgeSpace({ ...facts, usedBytes: 100 }, cap, undefined, undefined)).toEqual({
      kind: 'over-cap',
      usedBytes: 100,
      capBytes: 100,
    });
    expect(judgeSpace({ ...facts, usedBytes: 50, reservedBytes: 45 }, cap, undefined, undefined)).toEqual({
      kind: 'wait',
      usedBytes: 50,
      reservedBytes: 45,
      capBytes: 100,
    });
    // alone, an attempt under the cap goes (it may pass the cap by its own envelope, as before)
    expect(judgeSpace({ ...facts, usedBytes: 95 }, cap, undefined, undefined)).toEqual({ kind: 'fits' });
    // 0 = no cap and no share
    const none = { ...auto, capBytes: 0 };
    expect(judgeSpace({ ...facts, usedBytes: 10_000 }, none, volume, 0)).toEqual({ kind: 'fits' });
  });
});
