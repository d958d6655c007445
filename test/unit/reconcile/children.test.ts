import { describe, expect, it } from 'vitest';
import { readChildren } from '../../../src/reconcile/children.ts';
import { parseRun, type RunKey } from '../../../src/tekton/index.ts';

const done = { conditions: [{ type: 'Succeeded', status: 'True' }], completionTime: '2026-11-26T10:05:00Z' };
const pipelineRun = {
  kind: 'PipelineRun' as const,
  metadata: { name: 'pr', namespace: 'ns', uid: 'pr-uid' },
  status: {
    ...done,
    childReferences: [
      { kind: 'TaskRun', name: 'pr-clone', pipelineTaskName: 'clone' },
      { kind: 'TaskRun', name: 'pr-build', pipelineTaskName: 'build' },
      { kind: 'TaskRun', name: 'pr-test', pipelineTaskName: 'test' },
    ],
  },
};
const child = (name: string, owner: string | undefined, created: string) => ({
  kind: 'TaskRun',
  metadata: {
    name,
    namespace: 'ns',
    uid: `${name}-uid`,
    creationTimestamp: created,
    ...(owner ? { ownerReferences: [{ kind: 'PipelineRun', uid: owner }] } : {}),
  },
  status: done,
});
const objects: Record<string, unknown> = {
  'pr-clone': child('pr-clone', 'pr-uid', '2026-11-26T10:00:00Z'),
  'pr-build': child('pr-build', 'pr-uid', '2026-11-26T10:06:00Z'),
  'pr-test': child('pr-test', undefined, '2026-11-26T10:00:00Z'),
};
const runApi = { get: async (key: RunKey) => objects[key.name] as never };
const noCaptures = { findCapturedRun: async () => undefined };

describe('readChildren', () => {
  it("counts only the PipelineRun's own children created before it completed", async () => {
    const view = parseRun(pipelineRun, 'PipelineRun');
    if (view.kind !== 'PipelineRun') throw new Error('expected a PipelineRun');
    const children = await readChildren(runApi, noCaptures, view);
    expect(children.map((c) => [c.name, c.state])).toEqual([
      ['pr-clone', 'found'],
      ['pr-build', 'created-after-completion'],
      ['pr-test', 'not-owned'],
    ]);
  });

  it('reads a child gone from the cluster from its captured copy, with the same ownership checks', async () => {
    const view = parseRun(pipelineRun, 'PipelineRun');
    if (view.kind !== 'PipelineRun') throw new Error('expected a PipelineRun');
    const gone = { get: async () => undefined };
    const captured: Record<string, unknown> = {
      'pr-clone': objects['pr-clone'],
      'pr-test': objects['pr-test'],
    };
    const captures = {
      findCapturedRun: async (key: RunKey) =>
        captured[key.name] === undefined
          ? undefined
          : {
              uid: `${key.name}-uid`,
              run: key,
              object: captured[key.name] as Record<string, unknown>,
              capturedAt: new Date(),
            },
    };
    const children = await readChildren(gone, captures, view);
    expect(children.map((c) => [c.name, c.state])).toEqual([
      ['pr-clone', 'found'],
      ['pr-build', 'missing'],
      ['pr-test', 'not-owned'],
    ]);
    expect(children[0].state === 'found' && children[0].run).toEqual(objects['pr-clone']);
  });
});
