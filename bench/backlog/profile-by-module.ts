import { readFileSync } from 'node:fs';

/** The parts of a V8 .cpuprofile (what `--cpu-prof` writes) this reads. */
export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }[];
  samples: number[];
  timeDeltas: number[];
  /** microseconds on the profiled process's monotonic clock */
  startTime: number;
  endTime: number;
}

/** Part of a profile's time, in microseconds on its own clock (startTime … endTime). */
export interface ProfileSpan {
  fromUs: number;
  toUs: number;
}

/**
 * The span of a profile that wall-clock times `fromMs`…`toMs` (Date.now()) cover, given the wall
 * time `endedAtMs` at which it ended (the process's exit, where --cpu-prof stops): a few
 * milliseconds off at most, which a drain window of minutes does not notice.
 */
export function wallSpan(profile: CpuProfile, endedAtMs: number, fromMs: number, toMs: number): ProfileSpan {
  const offsetUs = endedAtMs * 1000 - profile.endTime;
  return { fromUs: fromMs * 1000 - offsetUs, toUs: toMs * 1000 - offsetUs };
}

/** Where a sample's time is charged: the nearest frame of the compiled observer on its stack. */
const OURS = /bench-dist\/([^/]+)\/(.*)$/;
const NAMED: Record<string, string> = { '(garbage collector)': 'GC', '(program)': '(program)' };

/**
 * The busy time of a profile by folder, file and function of our code: each sample is charged to
 * the nearest frame of ours on its stack (so undici's or node:crypto's work counts for the code that
 * asked for it); samples with none of our frames are "node/libs outside our frames"; idle is left
 * out. `runs` divides the totals into milliseconds per run; with `span`, only the samples taken in it
 * count (the drain window of a profile that also holds start-up and shutdown).
 */
export function profileByModule(profile: CpuProfile, runs: number, rows = 25, span?: ProfileSpan): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const tables = {
    folder: new Map<string, number>(),
    file: new Map<string, number>(),
    fn: new Map<string, number>(),
  };
  let busy = 0;
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const self = byId.get(id)?.callFrame.functionName ?? '';
    const us = profile.timeDeltas[i] ?? 0;
    at += us;
    if (span && (at < span.fromUs || at > span.toUs)) return;
    if (self === '(idle)') return;
    busy += us;
    let keys = { folder: NAMED[self] ?? 'node/libs outside our frames', file: '', fn: '' };
    for (let cur: number | undefined = id; cur !== undefined && !NAMED[self]; cur = parent.get(cur)) {
      const frame = byId.get(cur)?.callFrame;
      const m = frame && OURS.exec(frame.url);
      if (!m || !frame) continue;
      const file = `${m[1]}/${m[2]}`;
      keys = {
        folder: m[1] ?? '',
        file,
        fn: `${frame.functionName || '(anon)'} ${file}:${frame.lineNumber + 1}`,
      };
      break;
    }
    for (const k of ['folder', 'file', 'fn'] as const) {
      const key = keys[k] || keys.folder;
      tables[k].set(key, (tables[k].get(key) ?? 0) + us);
    }
  });
  const top = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, rows)
      .map(
        ([k, us]) =>
          `${(us / 1000 / runs).toFixed(2).padStart(7)} ms/run ${((100 * us) / busy).toFixed(1).padStart(5)}%  ${k}`,
      )
      .join('\n');
  return [
    `busy ${(busy / 1e6).toFixed(1)} s = ${(busy / 1000 / runs).toFixed(1)} ms/run over ${runs} runs`,
    `-- by folder\n${top(tables.folder)}`,
    `-- by file\n${top(tables.file)}`,
    `-- by function (the nearest of ours)\n${top(tables.fn)}`,
  ].join('\n');
}

// `scripts/node24.sh node bench/backlog/profile-by-module.ts <file.cpuprofile> <runs>`: a profile
// written by `BENCH_PROFILE_DIR=<dir> npm run bench -- backlog …`, over the runs it drained
if (import.meta.main) {
  const [file, runs = '1'] = process.argv.slice(2);
  if (!file) throw new Error('usage: profile-by-module.ts <file.cpuprofile> <runs>');
  console.log(profileByModule(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, Number(runs)));
}
