import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

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

/** The profile that `--cpu-prof --cpu-prof-dir=<dir>` made the process with `pid` write on exit. */
export function readProfile(dir: string, pid: number): CpuProfile {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile') && f.includes(`.${pid}.`));
  if (!file) throw new Error(`the process ${pid} wrote no CPU profile into ${dir}`);
  return JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
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
const OUTSIDE = 'node/libs outside our frames';
/** a package under node_modules (scoped or not), or a module of node itself */
const LIBRARY = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$|^node:(?:internal\/)?(.*)$/;

/**
 * The frame nearest the sample that has a script (natives have none): its package under
 * node_modules (`undici`, `pg-protocol`) or node module (`stream_base_commons`), and its function.
 */
function nearestLibrary(
  id: number,
  byId: Map<number, CpuProfile['nodes'][number]>,
  parent: Map<number, number>,
): { name: string; fn: string } | undefined {
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const frame = byId.get(cur)?.callFrame;
    const m = frame && LIBRARY.exec(frame.url);
    if (!m || !frame) continue;
    const name = m[1] ?? `node:${m[3]}`;
    return {
      name,
      fn: `${frame.functionName || '(anon)'} ${m[1] ? `${m[1]}/${m[2]}` : `node:${m[3]}`}:${frame.lineNumber + 1}`,
    };
  }
  return undefined;
}

/** Busy microseconds of one or more profiles, by folder, file and function of our code. */
export interface ModuleCharges {
  busy: number;
  folder: Map<string, number>;
  file: Map<string, number>;
  fn: Map<string, number>;
}

type Level = 'folder' | 'file' | 'fn';
const LEVELS: readonly Level[] = ['folder', 'file', 'fn'];

/**
 * Charges each busy sample of the profiles to the nearest frame of ours on its stack (so undici's
 * or node:crypto's work counts for the code that asked for it); samples with none of our frames are
 * "node/libs outside our frames"; idle is left out. With a `span`, only the samples taken in it
 * count (the drain window of a profile that also holds start-up and shutdown); with `cpuUs` (the
 * CPU time the process used in the same span, from /proc), its charges are scaled to that total.
 */
export function chargeByModule(
  parts: readonly { profile: CpuProfile; span?: ProfileSpan; cpuUs?: number }[],
): ModuleCharges {
  const charges = noCharges();
  for (const { profile, span, cpuUs } of parts) {
    const one = noCharges();
    chargeOne(profile, span, one);
    // a sample says what the thread was in, not that it had a core: where processes wait for the
    // CPU, busy samples overstate its CPU time, so a part with a measured CPU time is scaled to it
    const scale = cpuUs !== undefined && one.busy > 0 ? cpuUs / one.busy : 1;
    charges.busy += one.busy * scale;
    for (const k of LEVELS)
      for (const [key, us] of one[k]) charges[k].set(key, (charges[k].get(key) ?? 0) + us * scale);
  }
  return charges;
}

const noCharges = (): ModuleCharges => ({ busy: 0, folder: new Map(), file: new Map(), fn: new Map() });

function chargeOne(profile: CpuProfile, span: ProfileSpan | undefined, charges: ModuleCharges): void {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const self = byId.get(id)?.callFrame.functionName ?? '';
    const us = profile.timeDeltas[i] ?? 0;
    at += us;
    if (span && (at < span.fromUs || at > span.toUs)) return;
    if (self === '(idle)') return;
    charges.busy += us;
    let keys = { folder: NAMED[self] ?? OUTSIDE, file: '', fn: '' };
    if (!NAMED[self]) {
      // until a frame of ours is found: the library (or node module) nearest the sample
      const lib = nearestLibrary(id, byId, parent);
      if (lib) keys = { folder: OUTSIDE, file: `${OUTSIDE}: ${lib.name}`, fn: `${OUTSIDE}: ${lib.fn}` };
    }
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
    for (const k of LEVELS) {
      const key = keys[k] || keys.folder;
      charges[k].set(key, (charges[k].get(key) ?? 0) + us);
    }
  });
}

const perRun = (us: number, runs: number) => `${(us / 1000 / runs).toFixed(2).padStart(7)} ms/run`;

/**
 * The busy time of a profile by folder, file and function of our code (chargeByModule), in
 * milliseconds per run: `runs` divides the totals.
 */
export function profileByModule(profile: CpuProfile, runs: number, rows = 25, span?: ProfileSpan): string {
  return formatCharges(chargeByModule([{ profile, ...(span ? { span } : {}) }]), runs, rows);
}

export function formatCharges(charges: ModuleCharges, runs: number, rows = 25): string {
  const { busy } = charges;
  const top = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, rows)
      .map(([k, us]) => `${perRun(us, runs)} ${((100 * us) / busy).toFixed(1).padStart(5)}%  ${k}`)
      .join('\n');
  return [
    `busy ${(busy / 1e6).toFixed(1)} s = ${(busy / 1000 / runs).toFixed(1)} ms/run over ${runs} runs`,
    `-- by folder\n${top(charges.folder)}`,
    `-- by file\n${top(charges.file)}`,
    `-- by function (the nearest of ours)\n${top(charges.fn)}`,
  ].join('\n');
}

/**
 * Two charges side by side in milliseconds per run (`a` over `runsA` runs, `b` over `runsB`), by
 * file and by function, the rows that differ most first: what `b` spends per run that `a` does not.
 */
export function compareCharges(
  a: ModuleCharges,
  runsA: number,
  b: ModuleCharges,
  runsB: number,
  rows = 15,
): string {
  const ms = (us: number | undefined, runs: number) => (us ?? 0) / 1000 / runs;
  const table = (level: Level) => {
    const keys = new Set([...a[level].keys(), ...b[level].keys()]);
    return [...keys]
      .map((k) => {
        const x = ms(a[level].get(k), runsA);
        const y = ms(b[level].get(k), runsB);
        return { k, x, y, d: y - x };
      })
      .sort((p, q) => Math.abs(q.d) - Math.abs(p.d))
      .slice(0, rows)
      .map(
        ({ k, x, y, d }) =>
          `${x.toFixed(2).padStart(6)} ${y.toFixed(2).padStart(6)} ${`${d >= 0 ? '+' : ''}${d.toFixed(2)}`.padStart(6)}  ${k}`,
      )
      .join('\n');
  };
  return [
    `busy ms/run: ${ms(a.busy, runsA).toFixed(1)} against ${ms(b.busy, runsB).toFixed(1)} (${(ms(b.busy, runsB) - ms(a.busy, runsA)).toFixed(1)})`,
    '-- by folder (ms/run: first, second, difference)',
    table('folder'),
    '-- by file',
    table('file'),
    '-- by function (the nearest of ours)',
    table('fn'),
  ].join('\n');
}

// `scripts/node24.sh node bench/backlog/profile-by-module.ts <file.cpuprofile> <runs>`: a profile
// written by `BENCH_PROFILE_DIR=<dir> npm run bench -- backlog …`, over the runs it drained
if (import.meta.main) {
  const [file, runs = '1'] = process.argv.slice(2);
  if (!file) throw new Error('usage: profile-by-module.ts <file.cpuprofile> <runs>');
  console.log(profileByModule(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, Number(runs)));
}
