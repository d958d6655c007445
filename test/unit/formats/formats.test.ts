import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  buildProvenance,
  canonicalJson,
  imagesToSign,
  type ProvenanceOptions,
  parseFormatName,
  simpleSigningPayload,
  utcTimestamp,
} from '../../../src/formats/index.ts';
import type { PipelineRun, TaskRun } from '../../../src/tekton/index.ts';
import { CHAINS_TESTDATA, inputFor, RUNS, readRun } from './golden-helpers.ts';

const v1: ProvenanceOptions = {
  format: 'slsa/v1.0',
  builderId: 'https://tekton.dev/chains/v2',
  buildType: 'https://tekton.dev/chains/v2/slsa',
  deepInspection: false,
};
const v02: ProvenanceOptions = { ...v1, format: 'slsa/v0.2' };
const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe('parseFormatName', () => {
  it.each([
    ['in-toto', 'slsa/v0.2'],
    ['slsa/v1', 'slsa/v0.2'],
    ['slsa/v2alpha3', 'slsa/v1.0'],
    ['slsa/v2alpha4', 'slsa/v1.0'],
    ['slsa/v1.0', 'slsa/v1.0'],
  ])('%s → %s', (name, want) => {
    expect(parseFormatName(name)).toBe(want);
  });
  it('rejects unknown names with config_invalid naming the allowed values', () => {
    expect(() => parseFormatName('tekton')).toThrow(
      expect.objectContaining({ code: 'config_invalid', message: expect.stringContaining('slsa/v2alpha4') }),
    );
    expect(() => parseFormatName('toString')).toThrow(expect.objectContaining({ code: 'config_invalid' }));
  });
});

describe('canonicalJson and timestamps', () => {
  it('sorts keys recursively with no whitespace', () => {
    expect(canonicalJson({ b: [{ y: 1, x: 'é<' }], a: null, c: undefined })).toBe(
      '{"a":null,"b":[{"x":"é<","y":1}]}',
    );
  });
  it('writes UTC with Z and fractional seconds only when non-zero', () => {
    expect(utcTimestamp('2026-03-02T11:10:00+01:00')).toBe('2026-03-02T10:10:00Z');
    expect(utcTimestamp('2026-03-02T11:00:30.250Z')).toBe('2026-03-02T11:00:30.25Z');
    expect(utcTimestamp('2026-03-02T11:00:30.000Z')).toBe('2026-03-02T11:00:30Z');
    expect(utcTimestamp('yesterday')).toBeUndefined();
  });
});

describe('simpleSigningPayload', () => {
  it('is the exact cosign simplesigning JSON', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(text(simpleSigningPayload({ repository: 'gcr.io/foo/bar', digest }))).toBe(
      `{"critical":{"identity":{"docker-reference":"gcr.io/foo/bar"},"image":{"docker-manifest-digest":"${digest}"},"type":"cosign container image signature"},"optional":null}`,
    );
  });
});

describe('Chains expectations quoted in the reference', () => {
  it('v2alpha4 TaskRun (slsa-v2alpha4/taskrun1.json, TestTaskRunCreatePayload1)', () => {
    const p = buildProvenance(inputFor(join(CHAINS_TESTDATA, 'slsa-v2alpha4'), 'taskrun1.json'), v1);
    const s = p.statement as {
      subject: unknown;
      predicate: { buildDefinition: Record<string, unknown>; runDetails: Record<string, unknown> };
    };
    expect(s.subject).toEqual([
      {
        name: 'gcr.io/my/image/fromstep3',
        digest: { sha256: '827521c857fdcd4374f4da5442fbae2edb01e7fbae285c3ec15673d4c1daecb7' },
      },
      {
        name: 'gcr.io/my/image',
        digest: { sha256: 'd31cc8328054de2bd93735f9cbf0ccfb6e0ee8f4c4225da7d8f8cb3900eaf466' },
      },
    ]);
    const deps = s.predicate.buildDefinition.resolvedDependencies as { name?: string; uri: string }[];
    expect(deps.map((d) => [d.name, d.uri])).toEqual([
      ['task', 'git+https://github.com/test'],
      [undefined, 'oci://gcr.io/test1/test1'],
      [undefined, 'oci://gcr.io/test2/test2'],
      [undefined, 'oci://gcr.io/test3/test3'],
      ['inputs/result', 'git+https://git.test.com.git'],
    ]);
    expect(s.predicate.runDetails.byproducts).toEqual([
      {
        content: 'InJlc3VsdC12YWx1ZSI=',
        mediaType: 'application/json',
        name: 'stepResults/taskrun-build/step1_result1',
      },
      expect.objectContaining({ name: 'stepResults/taskrun-build/step1_result1-ARTIFACT_OUTPUTS' }),
    ]);
    expect(s.predicate.runDetails.metadata).toEqual({
      finishedOn: '2021-03-29T09:50:15Z',
      invocationId: 'abhhf-12354-asjsdbjs23-3435353n',
      startedOn: '2021-03-29T09:50:00Z',
    });
  });

  it('v0.2 TaskRun (pipeline-v1/taskrun1.json)', () => {
    const p = buildProvenance(inputFor(join(CHAINS_TESTDATA, 'pipeline-v1'), 'taskrun1.json'), v02);
    const pred = (p.statement as { predicate: Record<string, unknown> }).predicate;
    expect(pred.buildType).toBe('tekton.dev/v1/TaskRun');
    expect(pred.invocation).toEqual({
      configSource: { digest: { sha1: 'ab123' }, entryPoint: 'build.yaml', uri: 'github.com/test' },
      // namespace and serviceAccountName: our addition (docs/compatibility.md); the run has neither set
      environment: {
        labels: { 'tekton.dev/pipelineTask': 'build' },
        namespace: 'default',
        serviceAccountName: 'default',
      },
      parameters: {
        'CHAINS-GIT_COMMIT': 'sha:taskrun',
        'CHAINS-GIT_URL': 'https://git.test.com',
        IMAGE: 'test.io/test/image',
      },
    });
    expect(pred.materials).toEqual([
      {
        digest: { sha256: 'd4b63d3e24d6eef04a6dc0795cf8a73470688803d97c52cffa3c8d4efd3397b6' },
        uri: 'oci://gcr.io/test1/test1',
      },
      // the reference quote is abridged: the fixture has two more steps
      {
        digest: { sha256: '4d6dd704ef58cb214dd826519929e92a978a57cdee43693006139c0080fd6fac' },
        uri: 'oci://gcr.io/test2/test2',
      },
      {
        digest: { sha256: 'f1a8b8549c179f41e27ff3db0fe1a1793e4b109da46586501a8343637b1d0478' },
        uri: 'oci://gcr.io/test3/test3',
      },
      { digest: { sha1: 'sha:taskrun' }, uri: 'git+https://git.test.com.git' },
    ]);
    expect(pred.metadata).toEqual({
      buildFinishedOn: '2021-03-29T09:50:15Z',
      buildStartedOn: '2021-03-29T09:50:00Z',
      completeness: { environment: false, materials: false, parameters: false },
      reproducible: false,
    });
  });

  it('v2alpha3 PipelineRun dependencies order (slsa-v2alpha3/pipelinerun1.json + taskrun1/2)', () => {
    const p = buildProvenance(inputFor(join(CHAINS_TESTDATA, 'slsa-v2alpha3'), 'pipelinerun1.json'), v1);
    const deps = (
      p.statement.predicate as { buildDefinition: { resolvedDependencies: { name?: string; uri: string }[] } }
    ).buildDefinition.resolvedDependencies;
    expect(deps.map((d) => [d.name, d.uri])).toEqual([
      ['pipeline', 'git+https://github.com/test'],
      ['pipelineTask', 'git+https://github.com/catalog'],
      [undefined, 'oci://gcr.io/test1/test1'],
      ['pipelineTask', 'git+https://github.com/test'],
      [undefined, 'oci://gcr.io/test2/test2'],
      [undefined, 'oci://gcr.io/test3/test3'], // abridged in the reference quote
      ['inputs/result', 'abc'],
      ['inputs/result', 'git+https://git.test.com.git'],
    ]);
  });
});

describe('robustness and determinism', () => {
  it('same input gives byte-identical payloads, also with result order shuffled', () => {
    const input = inputFor(join(CHAINS_TESTDATA, 'slsa-v2alpha4'), 'pipelinerun1.json');
    const deep = { ...v02, deepInspection: true };
    const a = buildProvenance(input, deep).payload;
    expect(text(buildProvenance(input, deep).payload)).toBe(text(a));
    const run = input.run as PipelineRun;
    const reversed = {
      ...run,
      status: { ...run.status, results: [...(run.status?.results ?? [])].reverse() },
    };
    const b = buildProvenance({ ...input, run: reversed } as typeof input, deep).payload;
    const subjects = (x: Uint8Array) => (JSON.parse(text(x)) as { subject: unknown[] }).subject;
    expect(subjects(b)).toEqual(subjects(a));
  });

  it('a failed TaskRun with an empty imageID is attested, the bad step reported', () => {
    const run = readRun(join(RUNS, 'taskrun-failed.json')) as TaskRun;
    const p = buildProvenance({ kind: 'TaskRun', run }, v1);
    expect(p.skipped.map((s) => s.code).sort()).toEqual(['pair_incomplete', 'step_image_invalid']);
    expect(
      (p.statement.predicate as { runDetails: { metadata: { finishedOn: string } } }).runDetails.metadata
        .finishedOn,
    ).toBe('2026-03-02T11:00:30.25Z');
  });

  it('a cancelled TaskRun without completionTime still gets buildFinishedOn', () => {
    const run = readRun(join(RUNS, 'taskrun-cancelled.json')) as TaskRun;
    const p = buildProvenance({ kind: 'TaskRun', run }, v02);
    expect(
      (p.statement.predicate as { metadata: { buildFinishedOn: string } }).metadata.buildFinishedOn,
    ).toBe('2026-03-02T11:05:00Z');
  });

  it('missing, CustomRun and unfinished children do not block a PipelineRun and are recorded', () => {
    const base = inputFor(RUNS, 'konflux-docker-build.yaml');
    if (base.kind !== 'PipelineRun') throw new Error('fixture is a PipelineRun');
    const [clone, amd, , index] = base.children;
    const unfinished =
      amd.state === 'found'
        ? { ...amd.run, status: { ...amd.run.status, completionTime: undefined } }
        : undefined;
    const children = [
      clone,
      {
        name: amd.name,
        pipelineTaskName: 'build-images',
        state: 'found' as const,
        run: unfinished as TaskRun,
      },
      {
        name: 'app-on-push-x7k2p-build-container-arm64',
        pipelineTaskName: 'build-images',
        state: 'missing' as const,
      },
      { name: 'approval', state: 'not-a-taskrun' as const, kind: 'CustomRun' },
      index,
    ];
    for (const options of [v1, v02]) {
      const p = buildProvenance({ ...base, children }, { ...options, deepInspection: true });
      expect(p.skipped.map((s) => s.code)).toEqual([
        'child_unfinished',
        'child_missing',
        'child_not_a_taskrun',
      ]);
      expect(text(p.payload)).toContain('"unresolvedChildRuns":[');
      expect(p.images.length).toBeGreaterThan(0);
    }
  });

  it('imagesToSign lists a multi-arch IMAGES result, normalised and deduplicated', () => {
    const run = readRun(join(RUNS, 'taskrun-multi-arch.json')) as TaskRun;
    const got = imagesToSign(run);
    expect(got.images.map((i) => i.repository)).toEqual([
      'registry.example.com/team/app',
      'registry.example.com/team/app',
      'index.docker.io/library/ubuntu',
    ]);
    expect(got.skipped.map((s) => s.code)).toEqual(['digest_invalid']);
  });

  it('v1.0 takes StepAction build artifacts as subjects; flagless outputs are byproducts', () => {
    const run = readRun(join(RUNS, 'taskrun-stepactions.json')) as TaskRun;
    const p = buildProvenance({ kind: 'TaskRun', run }, v1);
    expect(p.statement.subject.map((s) => s.name)).toEqual(['registry.example.com/team/tool']);
    expect(p.images.map((i) => i.repository)).toEqual(['registry.example.com/team/tool']);
  });
});
