import { describe, expect, it } from 'vitest';
import type { ChildRun } from '../../../src/formats/index.ts';
import type { RunRecord } from '../../../src/model/index.ts';
import { type Decision, decide, type ReconcileFacts } from '../../../src/reconcile/decision.ts';
import { parseRun, type RunView } from '../../../src/tekton/index.ts';

const COMPLETED = Date.parse('2026-11-26T10:00:00Z');

function run(kind: 'TaskRun' | 'PipelineRun', signed?: string, done = true): RunView {
  return parseRun(
    {
      kind,
      metadata: {
        name: 'r',
        namespace: 'tenant-a',
        uid: 'u1',
        annotations: signed === undefined ? {} : { 'chains.tekton.dev/signed': signed },
      },
      status: {
        conditions: [{ type: 'Succeeded', status: done ? 'False' : 'Unknown' }],
        completionTime: '2026-11-26T10:00:00Z',
      },
    },
    kind,
  );
}

const state = (status: RunRecord['status']): RunRecord => ({
  uid: 'u1',
  run: { kind: 'TaskRun', namespace: 'tenant-a', name: 'r' },
  status,
  attempts: 1,
  updatedAt: new Date(COMPLETED),
});

const unfinished: ChildRun = { name: 'c1', state: 'unfinished', kind: 'TaskRun' };
const missing: ChildRun = { name: 'c2', state: 'missing' };

type Row = [string, Partial<ReconcileFacts>, Partial<Decision> & { action: Decision['action'] }];

// childWaitSeconds 60: the wait for children ends at COMPLETED + 60 s.
const rows: Row[] = [
  ['gone', { run: undefined }, { action: 'skip', reason: 'gone' }],
  ['gone, no copy captured', { run: undefined, fromCapture: false }, { action: 'skip', reason: 'gone' }],
  [
    'gone, captured copy: attested from the copy',
    { run: run('TaskRun'), fromCapture: true },
    { action: 'attest', children: [], signedWithoutRecord: false },
  ],
  [
    'gone, captured copy of an attested run without the mark: nothing to restore',
    { run: run('TaskRun'), state: state('attested'), fromCapture: true },
    { action: 'skip', reason: 'attested' },
  ],
  [
    'gone, captured copy of a run failed for good without the mark: no fresh try',
    { run: run('TaskRun'), state: state('failed'), fromCapture: true },
    { action: 'skip', reason: 'failed' },
  ],
  [
    'gone, captured copy, pending retry not due yet',
    {
      run: run('TaskRun'),
      state: { ...state('pending'), nextAttemptAt: new Date(COMPLETED + 5_000) },
      fromCapture: true,
    },
    { action: 'wait-for-retry', requeueAfterMs: 5_000 },
  ],
  [
    'gone, captured PipelineRun: its children are read (live or captured)',
    { run: run('PipelineRun'), fromCapture: true },
    { action: 'read-children' },
  ],
  ['still running', { run: run('TaskRun', undefined, false) }, { action: 'skip', reason: 'not-done' }],
  [
    'attested and marked',
    { run: run('TaskRun', 'true'), state: state('attested') },
    { action: 'skip', reason: 'attested' },
  ],
  [
    'attested, mark removed',
    { run: run('TaskRun'), state: state('attested') },
    { action: 'restore-mark', found: undefined },
  ],
  [
    'attested, mark says failed',
    { run: run('TaskRun', 'failed'), state: state('attested') },
    { action: 'restore-mark', found: 'failed' },
  ],
  [
    'attested, with no key loaded',
    { run: run('TaskRun'), state: state('attested'), signerLoaded: false },
    { action: 'restore-mark' },
  ],
  [
    'failed and marked failed',
    { run: run('TaskRun', 'failed'), state: state('failed') },
    { action: 'skip', reason: 'failed' },
  ],
  [
    'failed, mark removed: a fresh try',
    { run: run('TaskRun'), state: state('failed') },
    { action: 'attest', signedWithoutRecord: false },
  ],
  ['new TaskRun', { run: run('TaskRun') }, { action: 'attest', children: [], signedWithoutRecord: false }],
  ['pending retry', { run: run('TaskRun'), state: state('pending') }, { action: 'attest' }],
  [
    'pending retry, due now',
    { run: run('TaskRun'), state: { ...state('pending'), nextAttemptAt: new Date(COMPLETED) } },
    { action: 'attest' },
  ],
  [
    'pending retry, due in 4 s (backoff survives a restart)',
    { run: run('TaskRun'), state: { ...state('pending'), nextAttemptAt: new Date(COMPLETED + 4_000) } },
    { action: 'wait-for-retry', requeueAfterMs: 4_000 },
  ],
  [
    'pending, every attempt of the round started and never reported (crash loop)',
    { run: run('TaskRun'), state: { ...state('pending'), attempts: 3 }, signerLoaded: false },
    { action: 'give-up-unfinished', attempts: 3 },
  ],
  [
    'failed, mark removed, old backoff time: a fresh try is not held back',
    { run: run('TaskRun'), state: { ...state('failed'), nextAttemptAt: new Date(COMPLETED + 4_000) } },
    { action: 'attest' },
  ],
  [
    'marked signed, no record',
    { run: run('TaskRun', 'true') },
    { action: 'attest', signedWithoutRecord: true },
  ],
  [
    'no key loaded',
    { run: run('TaskRun'), signerLoaded: false },
    { action: 'wait-for-key', requeueAfterMs: 30_000, signedWithoutRecord: false },
  ],
  [
    'no key, marked signed',
    { run: run('PipelineRun', 'true'), signerLoaded: false },
    { action: 'wait-for-key', signedWithoutRecord: true },
  ],
  ['PipelineRun, children not read', { run: run('PipelineRun') }, { action: 'read-children' }],
  [
    'PipelineRun, children done',
    { run: run('PipelineRun'), children: [missing] },
    { action: 'attest', children: [missing] },
  ],
  ['PipelineRun, no children', { run: run('PipelineRun'), children: [] }, { action: 'attest', children: [] }],
  [
    'child unfinished, 5 s in',
    { run: run('PipelineRun'), children: [unfinished, missing], now: COMPLETED + 5_000 },
    { action: 'wait-for-children', waiting: ['c1'], requeueAfterMs: 10_000 },
  ],
  [
    'child unfinished, 55 s in',
    { run: run('PipelineRun'), children: [unfinished], now: COMPLETED + 55_000 },
    { action: 'wait-for-children', requeueAfterMs: 5_000 },
  ],
  [
    'child unfinished, wait over',
    { run: run('PipelineRun'), children: [unfinished], now: COMPLETED + 60_000 },
    { action: 'attest', children: [unfinished] },
  ],
  // replicas: every write waits for the run's claim; a run held elsewhere waits out the lease
  [
    'new TaskRun, claim not asked for',
    { run: run('TaskRun'), claim: undefined },
    { action: 'claim', forMark: false },
  ],
  [
    'new TaskRun, held by another replica',
    { run: run('TaskRun'), claim: { held: false, retryInMs: 7_000 } },
    { action: 'wait-for-claim', requeueAfterMs: 7_000 },
  ],
  [
    'attested, mark removed, claim not asked for',
    { run: run('TaskRun'), state: state('attested'), claim: undefined },
    { action: 'claim', forMark: true },
  ],
  [
    'crash loop, held by another replica (its attempt is running)',
    {
      run: run('TaskRun'),
      state: { ...state('pending'), attempts: 3 },
      claim: { held: false, retryInMs: 500 },
    },
    { action: 'wait-for-claim', requeueAfterMs: 500 },
  ],
  [
    'attested and marked: no claim needed',
    { run: run('TaskRun', 'true'), state: state('attested'), claim: undefined },
    { action: 'skip', reason: 'attested' },
  ],
  [
    'retry not due: no claim needed',
    {
      run: run('TaskRun'),
      state: { ...state('pending'), nextAttemptAt: new Date(COMPLETED + 4_000) },
      claim: undefined,
    },
    { action: 'wait-for-retry' },
  ],
  [
    'no key loaded: no claim needed',
    { run: run('TaskRun'), signerLoaded: false, claim: undefined },
    { action: 'wait-for-key' },
  ],
  [
    "before the Chains cut-over, unsigned: Chains' turn (10 s polls)",
    { run: run('TaskRun'), chainsTurn: { cutOver: COMPLETED + 1, waitMs: 600_000 }, claim: undefined },
    { action: 'wait-for-chains', requeueAfterMs: 10_000 },
  ],
  [
    'before the Chains cut-over, unsigned, the wait nearly over: until it ends',
    { run: run('TaskRun'), chainsTurn: { cutOver: COMPLETED, waitMs: 600_000 }, now: COMPLETED + 597_000 },
    { action: 'wait-for-chains', requeueAfterMs: 3_000 },
  ],
  [
    'before the Chains cut-over, Chains never signed it: attested by us once the wait is over',
    { run: run('TaskRun'), chainsTurn: { cutOver: COMPLETED, waitMs: 600_000 }, now: COMPLETED + 600_000 },
    { action: 'attest', signedWithoutRecord: false },
  ],
  [
    'before the Chains cut-over, signed by Chains: attested (adoption is tried)',
    { run: run('TaskRun', 'true'), chainsTurn: { cutOver: COMPLETED, waitMs: 600_000 } },
    { action: 'attest', signedWithoutRecord: true },
  ],
  [
    'before the Chains cut-over, Chains gave up (signed: failed): attested by us',
    { run: run('TaskRun', 'failed'), chainsTurn: { cutOver: COMPLETED, waitMs: 600_000 } },
    { action: 'attest', signedWithoutRecord: false },
  ],
  [
    'after the Chains cut-over: ours at once',
    { run: run('TaskRun'), chainsTurn: { cutOver: COMPLETED - 1, waitMs: 600_000 } },
    { action: 'attest', signedWithoutRecord: false },
  ],
  [
    'before the Chains cut-over, but an attempt of ours already started: not waited for',
    {
      run: run('TaskRun'),
      state: { ...state('pending'), attempts: 1 },
      chainsTurn: { cutOver: COMPLETED, waitMs: 600_000 },
    },
    { action: 'attest' },
  ],
  [
    'PipelineRun, children not read: read before claiming',
    { run: run('PipelineRun'), claim: undefined },
    { action: 'read-children' },
  ],
];

describe('decide', () => {
  it.each(rows)('%s', (_name, facts, expected) => {
    const decision = decide({
      run: undefined,
      state: undefined,
      signerLoaded: true,
      children: undefined,
      now: COMPLETED,
      childWaitSeconds: 60,
      maxAttempts: 3,
      claim: { held: true },
      ...facts,
    });
    expect(decision).toMatchObject(expected);
  });

  it('carries the run it decided on', () => {
    const view = run('PipelineRun');
    const decision = decide({
      run: view,
      state: undefined,
      signerLoaded: true,
      children: undefined,
      now: COMPLETED,
      childWaitSeconds: 60,
      maxAttempts: 3,
    });
    expect(decision).toEqual({ action: 'read-children', run: view });
  });
});
