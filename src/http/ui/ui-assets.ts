import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built provenance page (scripts/build-ui.ts), held in memory: a few tens of KiB. */
export interface UiAssets {
  /** path under /ui/ (`index.html`, `assets/app.js`, `assets/app.css`) → its bytes and type */
  files: ReadonlyMap<string, { body: Buffer; type: string }>;
}

/** Where `npm run build` puts the page: <package root>/dist/ui, from src/http/ui/ and dist/http/ui/ alike. */
export const DEFAULT_UI_DIR = fileURLToPath(new URL('../../../dist/ui/', import.meta.url));

const FILES: readonly [string, string][] = [
  ['index.html', 'text/html; charset=utf-8'],
  ['assets/app.js', 'text/javascript; charset=utf-8'],
  ['assets/app.css', 'text/css; charset=utf-8'],
];

/**
 * Reads the built page once, at start-up. Undefined when it is not built (a checkout without
 * `npm run build`): the observer then serves the API without the page and says so at /ui/.
 */
export function loadUiAssets(dir: string = DEFAULT_UI_DIR): UiAssets | undefined {
  const files = new Map<string, { body: Buffer; type: string }>();
  for (const [path, type] of FILES) {
    try {
      files.set(path, { body: readFileSync(join(dir, path)), type });
    } catch {
      return undefined;
    }
  }
  return { files };
}
