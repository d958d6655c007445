import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../../..');
const json = (path: string) => JSON.parse(readFileSync(join(ROOT, path), 'utf8'));

type Version = [number, number, number];
/** `22`, `22.12` and `22.12.0` alike (missing parts are 0). */
const parse = (v: string): Version => [...v.split('.').map(Number), 0, 0].slice(0, 3) as Version;
const cmp = (a: Version, b: Version) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

/** npm ranges as the dependencies here write them: `^x.y.z`, `>=x.y.z`, `>= x`, joined by `||`. */
function satisfies(version: string, range: string): boolean {
  const v = parse(version);
  return range.split('||').some((part) => {
    const p = part.trim();
    const caret = /^\^([\d.]+)$/.exec(p);
    if (caret) return v[0] === parse(caret[1] as string)[0] && cmp(v, parse(caret[1] as string)) >= 0;
    const atLeast = /^>=\s*([\d.]+)$/.exec(p);
    if (atLeast) return cmp(v, parse(atLeast[1] as string)) >= 0;
    throw new Error(`range form not understood: ${p}`);
  });
}

/** The lowest version each alternative of our own `engines` range allows. */
const lowestOf = (range: string) => range.split('||').map((p) => p.trim().replace(/^\^|^>=\s*/, ''));

// What the runtime needs besides packages: node:sqlite's DatabaseSync `timeout` option (22.16),
// type stripping on by default (22.18, bin/provenance-observer.js runs src/ directly).
const RUNTIME_FEATURES = '^22.18.0 || >=23.10.0';

describe('package.json engines and .node-version', () => {
  const pkg = json('package.json');
  const ours: string = pkg.engines.node;
  const deps = Object.keys(pkg.dependencies);

  it.each(deps)('every lowest Node our engines allow satisfies %s', (dep) => {
    const range: string | undefined = json(`node_modules/${dep}/package.json`).engines?.node;
    if (range === undefined) return;
    for (const lowest of lowestOf(ours))
      expect(satisfies(lowest, range), `${dep} ${range} vs ${lowest}`).toBe(true);
  });

  it('allows nothing older than node:sqlite and type stripping need', () => {
    for (const lowest of lowestOf(ours)) expect(satisfies(lowest, RUNTIME_FEATURES)).toBe(true);
  });

  it('scripts/node24.sh accepts the same lowest versions as our engines', () => {
    const script = readFileSync(join(ROOT, 'scripts/node24.sh'), 'utf8');
    expect(script).toContain(`(${ours})`);
  });

  it('.node-version is the version scripts/node24.sh installs, and our engines allow it', () => {
    const pinned = readFileSync(join(ROOT, '.node-version'), 'utf8').trim();
    expect(readFileSync(join(ROOT, 'scripts/node24.sh'), 'utf8')).toContain(`NODE24_VERSION:-${pinned}}`);
    expect(satisfies(pinned, ours)).toBe(true);
  });
});
