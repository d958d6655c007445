import { describe, expect, it } from 'vitest';
import {
  type CpuProfile,
  chargeByModule,
  compareCharges,
  profileByModule,
  wallSpan,
} from '../../../bench/backlog/profile-by-module.ts';

const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber });
const D = 'file:///x/.local/bench-dist';

describe('a CPU profile by the nearest frame of our code (bench/backlog/profile-by-module.ts)', () => {
  it('charges library time to the code that called it, leaves idle out, and names GC apart', () => {
    const profile: CpuProfile = {
      nodes: [
        { id: 1, callFrame: frame('(root)'), children: [2, 5, 6, 7] },
        { id: 2, callFrame: frame('write', `${D}/index/sqlite/sqlite-db.js`, 47), children: [3] },
        { id: 3, callFrame: frame('exec', 'node:sqlite'), children: [4] },
        { id: 4, callFrame: frame('(native)') },
        { id: 5, callFrame: frame('(idle)') },
        { id: 6, callFrame: frame('(garbage collector)') },
        { id: 7, callFrame: frame('onStreamRead', 'node:internal/stream_base_commons') },
      ],
      samples: [4, 4, 5, 6, 7],
      timeDeltas: [1000, 1000, 50_000, 2000, 1000],
      startTime: 0,
      endTime: 55_000,
    };
    const report = profileByModule(profile, 1);
    expect(report).toContain('busy 0.0 s = 5.0 ms/run over 1 runs');
    expect(report).toMatch(/2\.00 ms\/run\s+40\.0%\s+index\n/);
    expect(report).toMatch(/2\.00 ms\/run\s+40\.0%\s+write index\/sqlite\/sqlite-db\.js:48/);
    expect(report).toMatch(/2\.00 ms\/run\s+40\.0%\s+GC/);
    expect(report).toMatch(/1\.00 ms\/run\s+20\.0%\s+node\/libs outside our frames\n/);
    // outside our frames, the library or node module nearest the sample names it
    expect(report).toMatch(
      /1\.00 ms\/run\s+20\.0%\s+node\/libs outside our frames: node:stream_base_commons\n/,
    );
    expect(report).toContain('outside our frames: onStreamRead node:stream_base_commons:1');
    expect(report).not.toContain('idle');
  });

  it('names the package nearest a sample outside our frames, past native frames', () => {
    const profile: CpuProfile = {
      nodes: [
        { id: 1, callFrame: frame('(root)'), children: [2] },
        { id: 2, callFrame: frame('emit', 'node:events', 10), children: [3] },
        {
          id: 3,
          callFrame: frame('parse', 'file:///x/node_modules/pg-protocol/dist/parser.js', 38),
          children: [4],
        },
        { id: 4, callFrame: frame('(native)') },
      ],
      samples: [4, 4],
      timeDeltas: [1000, 1000],
      startTime: 0,
      endTime: 2000,
    };
    const report = profileByModule(profile, 1);
    expect(report).toMatch(/2\.00 ms\/run\s+100\.0%\s+node\/libs outside our frames: pg-protocol\n/);
    expect(report).toContain('outside our frames: parse pg-protocol/dist/parser.js:39');
  });

  it('counts only the samples in a span of wall-clock time, placed by when the profile ended', () => {
    const profile: CpuProfile = {
      nodes: [
        { id: 1, callFrame: frame('(root)'), children: [2, 3] },
        { id: 2, callFrame: frame('list', `${D}/kube/client/kube-list.js`, 9) },
        { id: 3, callFrame: frame('store', `${D}/oci/tag-appender.js`, 99) },
      ],
      // start-up lists for 10 ms, the window stores for 30 ms, shutdown lists for 10 ms
      samples: [2, 3, 3, 3, 2],
      timeDeltas: [10_000, 10_000, 10_000, 10_000, 10_000],
      startTime: 5_000_000,
      endTime: 5_050_000,
    };
    // the process ended at wall 1,000,050 ms: its samples fell at 1,000,010 … 1,000,050
    const span = wallSpan(profile, 1_000_050, 1_000_015, 1_000_045);
    const report = profileByModule(profile, 3, 25, span);
    expect(report).toContain('= 10.0 ms/run over 3 runs');
    expect(report).toMatch(/10\.00 ms\/run\s+100\.0%\s+oci\n/);
    expect(report).not.toContain('kube');
    expect(profileByModule(profile, 1)).toMatch(/20\.00 ms\/run\s+40\.0%\s+kube\n/);
  });

  it('sets two charges side by side per run, the rows that differ most first', () => {
    const profile = (listMs: number, storeMs: number): CpuProfile => ({
      nodes: [
        { id: 1, callFrame: frame('(root)'), children: [2, 3] },
        { id: 2, callFrame: frame('list', `${D}/kube/client/kube-list.js`, 9) },
        { id: 3, callFrame: frame('store', `${D}/oci/tag-appender.js`, 99) },
      ],
      samples: [2, 3],
      timeDeltas: [listMs * 1000, storeMs * 1000],
      startTime: 0,
      endTime: (listMs + storeMs) * 1000,
    });
    // one replica over 10 runs; three over the same 10 runs, each listing every run again
    const one = chargeByModule([{ profile: profile(10, 100) }]);
    const three = chargeByModule(
      [profile(10, 40), profile(10, 30), profile(10, 30)].map((p) => ({ profile: p })),
    );
    const text = compareCharges(one, 10, three, 10);
    // a replica that waited for a core half the time it was sampled busy: scaled to its /proc CPU
    const waited = chargeByModule([{ profile: profile(10, 30), cpuUs: 20_000 }]);
    expect(waited.busy).toBe(20_000);
    expect(waited.file.get('oci/tag-appender.js')).toBe(15_000);
    expect(text).toContain('busy ms/run: 11.0 against 13.0 (2.0)');
    const byFile = text.split('-- by file\n')[1]?.split('\n') ?? [];
    expect(byFile[0]).toMatch(/^\s+1\.00\s+3\.00\s+\+\s*2\.00\s+kube\/client\/kube-list\.js$/);
    expect(byFile[1]).toMatch(/^\s+10\.00\s+10\.00\s+\+\s*0\.00\s+oci\/tag-appender\.js$/);
  });
});
