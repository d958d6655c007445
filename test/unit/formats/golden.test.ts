/**
 * Golden tests: every Chains test run (and our own runs) → both formats, compared byte for byte with
 * the statements stored beside the run (`<run>.slsa-v1.0.json`, `<run>.slsa-v0.2.json`).
 * A missing golden fails. Regenerating is explicit: after a deliberate change run
 * `UPDATE_GOLDEN=1 npx vitest run test/unit/formats/golden.test.ts` and review the diff.
 * These goldens are our own output (a regression check); the comparison with Chains' own expected
 * outputs is `chains-parity.test.ts`, and docs/compatibility.md lists every difference.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildProvenance, type FormatName } from '../../../src/formats/index.ts';
import { CHAINS_TESTDATA, inputFor, RUNS, runFiles } from './golden-helpers.ts';

const dirs = [...readdirSync(CHAINS_TESTDATA).map((d) => join(CHAINS_TESTDATA, d)), RUNS];
const formats: FormatName[] = ['slsa/v1.0', 'slsa/v0.2'];

describe.each(dirs)('golden statements in %s', (dir) => {
  it.each(runFiles(dir).flatMap((f) => formats.map((format) => [f, format] as const)))(
    '%s as %s',
    (file, format) => {
      const p = buildProvenance(inputFor(dir, file), {
        format,
        builderId: 'https://tekton.dev/chains/v2',
        buildType: 'https://tekton.dev/chains/v2/slsa',
        deepInspection: true,
      });
      const text = `${JSON.stringify(JSON.parse(new TextDecoder().decode(p.payload)), null, 2)}\n`;
      const golden = join(dir, `${file.replace(/\.(json|ya?ml)$/, '')}.${format.replace('/', '-')}.json`);
      if (process.env.UPDATE_GOLDEN === '1') writeFileSync(golden, text);
      expect(existsSync(golden), `${golden} is missing; regenerate with UPDATE_GOLDEN=1`).toBe(true);
      expect(text).toBe(readFileSync(golden, 'utf8'));
    },
  );
});

describe.each(dirs)('goldens in %s', (dir) => {
  it('belong to a run document (no orphaned golden)', () => {
    const runs = new Set(runFiles(dir).map((f) => f.replace(/\.(json|ya?ml)$/, '')));
    const orphans = readdirSync(dir)
      .filter((f) => f.includes('.slsa-'))
      .filter((f) => !runs.has(f.replace(/\.slsa-v\d\.\d\.json$/, '')));
    expect(orphans).toEqual([]);
  });
});
