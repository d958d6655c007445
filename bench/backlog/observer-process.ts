import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
/** the compiled service, as the image runs it (dist/), built into .local so dist/ stays the user's */
const BUILT = join(ROOT, '.local/bench-dist');

/** Compiles src/ the way the image does (tsconfig.build.json) into .local/bench-dist; returns main.js. */
export function buildObserver(): string {
  execFileSync(
    process.execPath,
    [
      join(ROOT, 'node_modules/typescript/bin/tsc'),
      '-p',
      join(ROOT, 'tsconfig.build.json'),
      '--outDir',
      BUILT,
      '--sourceMap',
      'false',
    ],
    {
      stdio: 'inherit',
    },
  );
  return join(BUILT, 'cli/main.js');
}

export { ObserverProcess } from '../../test/helpers/observer-process.ts';
