import { closeSync, fsyncSync, mkdtempSync, openSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DiskMeter } from '../../../bench/backlog/cpu-meter.ts';

describe('DiskMeter', () => {
  it('counts the writes and flushes an fsync sends to the disk under a directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'disk-meter-'));
    const meter = new DiskMeter(dir);
    const fd = openSync(join(dir, 'f'), 'w');
    for (let i = 0; i < 5; i++) {
      writeSync(fd, Buffer.alloc(4096, i));
      fsyncSync(fd);
    }
    closeSync(fd);
    const d = meter.read();
    if (d === undefined) {
      // only a directory on no block device (tmpfs, overlay: major 0) has no diskstats line
      expect(Math.floor(statSync(dir).dev / 256) & 0xfff).toBe(0);
      return;
    }
    expect(d.device).toMatch(/^\w+$/);
    expect(d.writes).toBeGreaterThanOrEqual(5);
    expect(Number.isFinite(d.busyShare)).toBe(true);
    expect(d.flushes).toBeGreaterThanOrEqual(0);
  });
});
