/**
 * Parity with Tekton Chains' own expected outputs: the e2e expectations of tektoncd/chains
 * (test/testdata/slsa/<format>/<example>.json, filled from the completed run as Chains'
 * test/examples_test.go does) against what we build from the same completed run
 * (test/fixtures/chains-e2e/: Chains' examples/ as Tekton stores them once run: defaults, status,
 * child TaskRuns in test/fixtures/chains-e2e/<example>/). Compared field by field after Chains' own ignore rule (internalParameters,
 * invocation.environment). Every difference must be listed, once, in the ```json chains-parity
 * block of docs/compatibility.md with Chains' value and ours; a listed difference that no longer
 * shows fails too. Expected outputs not compared field by field are pinned there by sha256.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildProvenance, type FormatName, parseFormatName } from '../../../src/formats/index.ts';
import type { PipelineRun, TaskRun } from '../../../src/tekton/index.ts';
import {
  at,
  type ChainsFormat,
  dropReleaseSpecific,
  formatOfPipelineRun,
  formatOfTaskRun,
  readJson,
  readParityManifest,
  removeAt,
  renderChainsTemplate,
} from './chains-parity-helpers.ts';

const EXPECTED = join(import.meta.dirname, '../../fixtures/tekton-chains/test/testdata/slsa');
const RUNS = join(import.meta.dirname, '../../fixtures/chains-e2e');
const manifest = readParityManifest(join(import.meta.dirname, '../../../docs/compatibility.md'));

const expectedFiles = readdirSync(EXPECTED)
  .flatMap((dir) => readdirSync(join(EXPECTED, dir)).map((f) => `${dir}/${f}`))
  .sort();
const pinned = new Map(manifest.pinned.map((p) => [p.file, p]));
const compared = expectedFiles.filter((f) => !pinned.has(f));

/** Chains' e2e config for the example (test/examples_test.go TestExamples). */
const deepInspection = (example: string) => example === 'pipeline-with-repeated-results';

function ourStatement(format: FormatName, example: string): { statement: unknown; f: ChainsFormat } {
  const run = readJson(RUNS, `${example}.json`) as TaskRun | PipelineRun;
  const options = {
    format,
    builderId: 'https://tekton.dev/chains/v2',
    buildType: 'https://tekton.dev/chains/v2/slsa',
    deepInspection: deepInspection(example),
  };
  if (run.kind === 'TaskRun') {
    const tr = run as TaskRun;
    return {
      statement: buildProvenance({ kind: 'TaskRun', run: tr }, options).statement,
      f: formatOfTaskRun(tr),
    };
  }
  const pr = run as PipelineRun;
  const children = (pr.status?.childReferences ?? []).map(
    (c) => readJson(join(RUNS, example), `${c.name}.json`) as TaskRun,
  );
  const found = children.map((c) => ({ name: c.metadata.name ?? '', state: 'found' as const, run: c }));
  const p = buildProvenance({ kind: 'PipelineRun', run: pr, children: found }, options);
  return { statement: p.statement, f: formatOfPipelineRun(pr, children) };
}

describe('Chains expected outputs (test/testdata/slsa)', () => {
  it('every expected output is compared or pinned, and every pinned one is unchanged', () => {
    expect(compared.length).toBeGreaterThan(0);
    for (const [file, p] of pinned) {
      expect(expectedFiles, `pinned ${file} exists`).toContain(file);
      const sha = createHash('sha256')
        .update(readFileSync(join(EXPECTED, file)))
        .digest('hex');
      expect(sha, `${file} changed: compare it field by field or re-pin it`).toBe(p.sha256);
    }
  });

  it('every listed difference names a compared file and a reason', () => {
    for (const d of manifest.differences) {
      expect(d.files.length, d.path).toBeGreaterThan(0);
      for (const f of d.files) expect(compared, `${d.path}: ${f}`).toContain(f);
      expect(d.why, d.path).toMatch(/\S/);
    }
  });

  it.each(compared)('%s: equal to ours field by field, except the listed differences', (file) => {
    const [dir, name] = file.split('/') as [string, string];
    const example = name.replace(/\.json$/, '');
    const { statement, f } = ourStatement(parseFormatName(`slsa/${dir}`), example);
    const template = readFileSync(join(EXPECTED, file), 'utf8');
    const chains = dropReleaseSpecific(JSON.parse(renderChainsTemplate(template, f)));
    const ours = dropReleaseSpecific(JSON.parse(JSON.stringify(statement)));
    // deepest paths first, so removing an array item does not shift a later listed path
    const listed = manifest.differences
      .filter((d) => d.files.includes(file))
      .sort((a, b) => b.path.localeCompare(a.path));
    for (const d of listed) {
      expect(at(chains, d.path), `Chains' value at ${d.path} in ${file}`).toStrictEqual(d.chains);
      expect(at(ours, d.path), `our value at ${d.path} for ${file}`).toStrictEqual(d.ours);
    }
    for (const d of listed) {
      removeAt(chains, d.path);
      removeAt(ours, d.path);
    }
    expect(ours).toStrictEqual(chains);
  });
});
