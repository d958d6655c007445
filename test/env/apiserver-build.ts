import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { withLock } from './lock.ts';

/** Where the built kube-apiserver is cached across environments:
 *  `${XDG_CACHE_HOME:-$HOME/.cache}/provenance-observer/kube-apiserver/`. `env down` keeps it. */
export function apiserverCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'provenance-observer', 'kube-apiserver');
}

/** The cached binary's path (it may not exist yet). */
export function apiserverBinaryPath(): string {
  return join(apiserverCacheDir(), 'kube-apiserver');
}

export interface ApiserverBinary {
  path: string;
  /** true when this call built it; false when the cached binary was reused */
  built: boolean;
  /** wall time of the build in ms (0 when cached) */
  buildMs: number;
  /** the full build log (also kept when the build fails) */
  logFile: string;
}

/**
 * Returns the cached kube-apiserver, building it from Debian's `kubernetes` source package first
 * when missing (build-kube-apiserver.sh; ~5 min on 2 cores). Progress lines (`==> step`) go to
 * `progress`; the whole output goes to `<cache>/build.log`. Fails naming the log on a non-zero exit.
 */
export async function ensureApiserverBinary(progress: (line: string) => void): Promise<ApiserverBinary> {
  const dir = apiserverCacheDir();
  const path = apiserverBinaryPath();
  const logFile = join(dir, 'build.log');
  if (existsSync(path)) return { path, built: false, buildMs: 0, logFile };
  mkdirSync(dir, { recursive: true });
  // Several environments (worktrees, CI beside a developer) share this cache: one builds, the
  // others wait for it and reuse its binary instead of building into the same work tree at once.
  return withLock(join(dir, 'build.lock'), async () => {
    if (existsSync(path)) return { path, built: false, buildMs: 0, logFile };
    return build(path, dir, logFile, progress);
  });
}

async function build(
  path: string,
  dir: string,
  logFile: string,
  progress: (line: string) => void,
): Promise<ApiserverBinary> {
  progress(`kube-apiserver not cached: building it from Debian's kubernetes source (log: ${logFile})`);
  const started = Date.now();
  await runBuild(path, join(dir, 'build'), logFile, progress);
  const buildMs = Date.now() - started;
  progress(`kube-apiserver built in ${(buildMs / 1000).toFixed(1)} s`);
  return { path, built: true, buildMs, logFile };
}

function runBuild(out: string, work: string, logFile: string, progress: (l: string) => void): Promise<void> {
  const script = join(import.meta.dirname, 'build-kube-apiserver.sh');
  const log = createWriteStream(logFile);
  const child = spawn('bash', [script, out, work], { stdio: ['ignore', 'pipe', 'pipe'] });
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;
  // `==>` lines are the script's steps; `+++ [time] Building go targets` and the indented target
  // names under it come from the Kubernetes Makefile.
  let targets = false;
  createInterface({ input: child.stdout }).on('line', (line) => {
    log.write(`${line}\n`);
    if (line.startsWith('==> ')) progress(`  [${elapsed()}] ${line.slice(4)}`);
    else if (line.startsWith('+++ ')) targets = line.includes('Building go targets');
    else if (targets && line.startsWith('    ')) progress(`  [${elapsed()}]   go build ${line.trim()}`);
    else targets = false;
  });
  child.stderr.pipe(log, { end: false });
  // The last `go build` runs for minutes without output: say it is still alive once a minute.
  const heartbeat = setInterval(() => progress(`  [${elapsed()}]   still compiling`), 60_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(heartbeat);
      log.end();
      if (code === 0) resolve();
      else reject(new Error(`building kube-apiserver failed (exit ${code}): see ${logFile}`));
    });
  });
}
