import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildProvenance, type ChildRun } from '../../../src/formats/index.ts';
import type { ExecutionCheckOutcome } from '../../../src/policy/index.ts';
import type { PipelineRun, TaskRun } from '../../../src/tekton/index.ts';
import { CHAINS_TESTDATA, RUNS, readRun } from './golden-helpers.ts';

const options = (format: 'slsa/v1.0' | 'slsa/v0.2') => ({
  format,
  builderId: 'https://tekton.dev/chains/v2',
  buildType: 'https://tekton.dev/chains/v2/slsa',
  deepInspection: true,
});
const mismatch: ExecutionCheckOutcome = {
  result: 'mismatch',
  podName: 'p',
  differences: [{ container: 'step-build', reported: 'a@sha256:1', ran: 'b@sha256:2' }],
};

describe('who built it and what ran', () => {
  const run = readRun(join(RUNS, 'taskrun-failed.json')) as TaskRun;
  it('v1.0: namespace and serviceAccountName in internalParameters; the outcome as byproduct executionCheck', () => {
    const p = buildProvenance({ kind: 'TaskRun', run, executionCheck: mismatch }, options('slsa/v1.0'));
    const pred = p.statement.predicate as {
      buildDefinition: { internalParameters: Record<string, unknown> };
      runDetails: { byproducts: { name: string; content: string; annotations?: unknown }[] };
    };
    expect(pred.buildDefinition.internalParameters).toMatchObject({
      namespace: 'tenant-a',
      serviceAccountName: 'default',
    });
    const b = pred.runDetails.byproducts.find((x) => x.name === 'executionCheck');
    expect(b?.annotations).toEqual({ result: 'mismatch' });
    expect(JSON.parse(Buffer.from(b!.content, 'base64').toString())).toEqual(mismatch);
  });
  it('v0.2: in invocation.environment and buildConfig.executionCheck; absent when the check is off', () => {
    const on = buildProvenance({ kind: 'TaskRun', run, executionCheck: mismatch }, options('slsa/v0.2'));
    const pred = on.statement.predicate as {
      invocation: { environment: unknown };
      buildConfig: Record<string, unknown>;
    };
    expect(pred.invocation.environment).toMatchObject({
      namespace: 'tenant-a',
      serviceAccountName: 'default',
    });
    expect(pred.buildConfig.executionCheck).toEqual(mismatch);
    const off = buildProvenance({ kind: 'TaskRun', run }, options('slsa/v0.2'));
    expect((off.statement.predicate as { buildConfig: object }).buildConfig).not.toHaveProperty(
      'executionCheck',
    );
  });
  it('a swapped child is unresolved and lends the PipelineRun no subject, material or task', () => {
    const dir = join(CHAINS_TESTDATA, 'pipeline-v1');
    const pr = readRun(join(dir, 'pipelinerun1.json')) as PipelineRun;
    const t1 = readRun(join(dir, 'taskrun1.json')) as TaskRun;
    const t2 = readRun(join(dir, 'taskrun2.json')) as TaskRun;
    const honest: ChildRun[] = [
      { name: 'taskrun1', state: 'found', run: t1 },
      { name: 'taskrun2', state: 'found', run: t2 },
    ];
    const swapped: ChildRun[] = [
      { name: 'taskrun1', state: 'found', run: t1 },
      { name: 'taskrun2', state: 'created-after-completion', kind: 'TaskRun' },
    ];
    const a = buildProvenance({ kind: 'PipelineRun', run: pr, children: honest }, options('slsa/v0.2'));
    const b = buildProvenance({ kind: 'PipelineRun', run: pr, children: swapped }, options('slsa/v0.2'));
    const tasks = (x: typeof a) =>
      ((x.statement.predicate as { buildConfig: { tasks: { name: string }[] } }).buildConfig.tasks ?? []).map(
        (t) => t.name,
      );
    const t2Task = t2.metadata.labels?.['tekton.dev/pipelineTask'] ?? '';
    expect(tasks(a)).toContain(t2Task);
    expect(tasks(b)).not.toContain(t2Task);
    expect(tasks(b)).toHaveLength(tasks(a).length - 1);
    expect(b.skipped).toContainEqual(expect.objectContaining({ code: 'created_after_completion' }));
    expect(
      (b.statement.predicate as { buildConfig: { unresolvedChildRuns: unknown } }).buildConfig
        .unresolvedChildRuns,
    ).toEqual([{ name: 'taskrun2', state: 'created-after-completion', kind: 'TaskRun' }]);
  });
});
