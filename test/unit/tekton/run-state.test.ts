import { describe, expect, it } from 'vitest';
import { childReferencesOf, isDone, parseRunDocument, runRefOf } from '../../../src/tekton/index.ts';

const yaml = `apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr-1, namespace: tenant-a, uid: u-1}
spec: {taskRunTemplate: {serviceAccountName: builder}}
status:
  conditions: [{type: Succeeded, status: "False", reason: Cancelled}]
  childReferences: [{kind: TaskRun, name: pr-1-a, pipelineTaskName: a}]
`;

describe('tekton views', () => {
  it('parses kubectl YAML and JSON', () => {
    const run = parseRunDocument(yaml);
    expect(run.kind).toBe('PipelineRun');
    expect(parseRunDocument(JSON.stringify(run))).toEqual(run);
  });
  it('rejects other kinds and non-objects with input_invalid', () => {
    expect(() => parseRunDocument('kind: Pod\nmetadata: {}')).toThrow(
      expect.objectContaining({ code: 'input_invalid' }),
    );
    expect(() => parseRunDocument('- a')).toThrow(expect.objectContaining({ code: 'input_invalid' }));
    expect(() => parseRunDocument('{')).toThrow(expect.objectContaining({ code: 'input_invalid' }));
  });
  it('isDone: Succeeded present and not Unknown', () => {
    expect(isDone(parseRunDocument(yaml))).toBe(true);
    expect(isDone({ status: { conditions: [{ type: 'Succeeded', status: 'Unknown' }] } })).toBe(false);
    expect(isDone({ status: {} })).toBe(false);
  });
  it('runRefOf reads the PipelineRun service account and requires name and uid', () => {
    const run = parseRunDocument(yaml);
    expect(runRefOf(run)).toEqual({
      kind: 'PipelineRun',
      namespace: 'tenant-a',
      name: 'pr-1',
      uid: 'u-1',
      serviceAccountName: 'builder',
    });
    expect(() => runRefOf({ kind: 'TaskRun', metadata: { name: 'x' } })).toThrow(
      expect.objectContaining({ code: 'input_invalid' }),
    );
    expect(runRefOf({ kind: 'TaskRun', metadata: { name: 'x', uid: 'u' } }).serviceAccountName).toBe(
      'default',
    );
  });
  it('childReferencesOf', () => {
    const run = parseRunDocument(yaml);
    if (run.kind !== 'PipelineRun') throw new Error('PipelineRun expected');
    expect(childReferencesOf(run).map((c) => c.pipelineTaskName)).toEqual(['a']);
  });
});
