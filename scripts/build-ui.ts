/**
 * Builds the provenance page (ui/) into dist/ui/: index.html, assets/app.js (one ES module, all
 * page code bundled and minified by esbuild) and assets/app.css. The observer serves that folder
 * under /ui/ (src/http/ui-routes.ts). Run by `npm run build` and `npm run build:ui`; the UI tests
 * run it too, so a fresh checkout needs no committed bundle.
 *
 *   node scripts/build-ui.ts [outDir]
 */
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

const ROOT = resolve(import.meta.dirname, '..');
export const UI_OUT_DIR = join(ROOT, 'dist', 'ui');

/** Builds into `outDir` (replacing it) and returns the files written, relative to it. */
export async function buildUi(outDir: string = UI_OUT_DIR): Promise<string[]> {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(join(outDir, 'assets'), { recursive: true });
  await build({
    entryPoints: [join(ROOT, 'ui', 'src', 'main.ts')],
    outfile: join(outDir, 'assets', 'app.js'),
    bundle: true,
    format: 'esm',
    target: ['chrome120', 'firefox120', 'safari17'],
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
    tsconfig: join(ROOT, 'ui', 'tsconfig.json'),
  });
  copyFileSync(join(ROOT, 'ui', 'index.html'), join(outDir, 'index.html'));
  copyFileSync(join(ROOT, 'ui', 'app.css'), join(outDir, 'assets', 'app.css'));
  return ['index.html', 'assets/app.js', 'assets/app.css'];
}

if (import.meta.main) {
  const out = process.argv[2] ? resolve(process.argv[2]) : UI_OUT_DIR;
  const files = await buildUi(out);
  console.error(`build-ui: ${files.join(', ')} in ${out}`);
}
