import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildRun, ProvenanceInput } from '../../../src/formats/index.ts';
import { parseRunDocument, type TaskRun } from '../../../src/tekton/index.ts';

export const CHAINS_TESTDATA = join(
  import.meta.dirname,
  '../../fixtures/tekton-chains/pkg/chains/formats/slsa/testdata',
);
export const RUNS = join(import.meta.dirname, '../../fixtures/runs');

export function readRun(path: string) {
  return parseRunDocument(readFileSync(path, 'utf8'));
}

/** Every run document in a directory (not the generated `*.slsa-*.json` beside them). */
export function runFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => /\.(json|ya?ml)$/.test(f) && !f.includes('.slsa-'))
    .sort();
}

/**
 * A run as formats take it. Chains' PipelineRun test data has no childReferences: its tests attach
 * taskrun1.json and taskrun2.json of the same directory, so do we.
 */
export function inputFor(dir: string, file: string): ProvenanceInput {
  const run = readRun(join(dir, file));
  if (run.kind === 'TaskRun') return { kind: 'TaskRun', run };
  const refs = run.status?.childReferences;
  const names = refs?.length ? refs.map((r) => r.name) : ['taskrun1', 'taskrun2'];
  const children: ChildRun[] = names.map((name) => {
    const file = runFiles(dir).find((f) => f.replace(/\.(json|ya?ml)$/, '') === name);
    if (!file) return { name, state: 'missing' };
    const child = readRun(join(dir, file)) as TaskRun;
    return { name: child.metadata.name ?? name, state: 'found', run: child };
  });
  return { kind: 'PipelineRun', run, children };
}
