import { describe, expect, it } from 'vitest';
import { ObserverError } from '../../../src/errors.ts';
import { parseRun } from '../../../src/tekton/index.ts';

const meta = { name: 'pr-1', namespace: 'tenant-a', uid: 'p1', annotations: { a: 'b' } };

describe('parseRun', () => {
  it('reads a PipelineRun once: ref, done, annotations, completion time, child references', () => {
    const view = parseRun(
      {
        metadata: meta,
        spec: { taskRunTemplate: { serviceAccountName: 'builder' } },
        status: {
          conditions: [{ type: 'Succeeded', status: 'True' }],
          completionTime: '2026-11-26T10:00:00Z',
          childReferences: [{ kind: 'TaskRun', name: 'c1' }],
        },
      },
      'PipelineRun',
    );
    expect(view.kind).toBe('PipelineRun');
    expect(view.ref).toEqual({
      kind: 'PipelineRun',
      namespace: 'tenant-a',
      name: 'pr-1',
      uid: 'p1',
      serviceAccountName: 'builder',
    });
    expect(view.done).toBe(true);
    expect(view.annotations).toEqual({ a: 'b' });
    expect(view.completedAt).toBe(Date.parse('2026-11-26T10:00:00Z'));
    expect(view.kind === 'PipelineRun' && view.childReferences).toEqual([{ kind: 'TaskRun', name: 'c1' }]);
    expect(view.object.kind).toBe('PipelineRun');
  });

  it('reads a running TaskRun without a completion time', () => {
    const view = parseRun(
      { kind: 'TaskRun', metadata: meta, status: { conditions: [{ type: 'Succeeded', status: 'Unknown' }] } },
      'TaskRun',
    );
    expect(view.done).toBe(false);
    expect(view.completedAt).toBeUndefined();
    expect(view.ref.serviceAccountName).toBe('default');
  });

  it('rejects what is not a run of the kind asked for, naming it', () => {
    const bad = (object: unknown) => () => parseRun(object, 'TaskRun');
    const invalid = (e: unknown) => e instanceof ObserverError && e.code === 'input_invalid' && !e.retryable;
    expect(bad(null)).toThrow(/reading TaskRun \?\/\?: expected an object with metadata/);
    expect(bad({ kind: 'PipelineRun', metadata: meta })).toThrow(
      /reading TaskRun tenant-a\/pr-1: kind is PipelineRun, expected TaskRun/,
    );
    expect(bad({ metadata: { name: 'x', namespace: 'n' } })).toThrow(/metadata.name and metadata.uid/);
    expect(bad({ metadata: {} })).toThrowError(expect.toSatisfy(invalid));
  });
});
