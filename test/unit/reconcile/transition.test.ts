import { describe, expect, it } from 'vitest';
import { ObserverError } from '../../../src/errors.ts';
import type { RunRecord } from '../../../src/model/index.ts';
import { type RunOutcome, type Transition, transition } from '../../../src/reconcile/transition.ts';

const NOW = Date.parse('2026-12-04T10:00:00Z');
const run = { uid: 'u1', kind: 'TaskRun' as const, namespace: 'tenant-a', name: 'build-1' };
const ctx = { now: NOW, maxAttempts: 3, retryBaseMs: 1000, registryWaitMs: 3_600_000, random: () => 1 };

type State = 'none' | RunRecord['status'];
const STATES: State[] = ['none', 'pending', 'attested', 'failed'];

/** A record in each state: pending on its second attempt, deferred for 10 min, next attempt due in 2 s. */
function record(state: State): RunRecord | undefined {
  if (state === 'none') return undefined;
  return {
    uid: 'u1',
    run: { kind: 'TaskRun', namespace: 'tenant-a', name: 'build-1' },
    status: state,
    attempts: 2,
    lastError: 'registry_denied',
    nextAttemptAt: new Date(NOW + 2_000),
    deferredSince: new Date(NOW - 600_000),
    lastAttemptAt: new Date(NOW - 1_000),
    updatedAt: new Date(NOW - 1_000),
  };
}

const down = (until: number) =>
  new ObserverError('HEAD on reg.example: circuit open', {
    code: 'registry',
    retryable: true,
    notBefore: until,
  });
const OUTCOMES: Record<string, RunOutcome> = {
  started: { kind: 'started' },
  attested: { kind: 'attested' },
  'failed (retryable)': {
    kind: 'failed',
    errors: [new ObserverError('registry said 500', { code: 'storage', retryable: true })],
  },
  'failed (not retryable)': {
    kind: 'failed',
    errors: [new ObserverError('subject not allowed', { code: 'input_invalid', retryable: false })],
  },
  'failed (registry down)': { kind: 'failed', errors: [down(NOW + 30_000)] },
  abandoned: { kind: 'abandoned' },
  refused: { kind: 'refused', detail: 'namespace full (detail)', publicText: 'namespace full' },
  'mark-lost': { kind: 'mark-lost', found: 'false' },
};

/** What a cell must give: the new record's fields, the effects' kinds in order, the requeue. */
interface Cell {
  status: State;
  attempts?: number;
  effects: string[];
  requeueAfterMs?: number;
  record?: Partial<RunRecord>;
}

const ignored: Cell = { status: 'same' as State, effects: ['report:ignored'] };
const attested: Cell = {
  status: 'attested',
  attempts: 0,
  effects: ['record-attestation', 'mark', 'save', 'report:attested'],
  record: { nextAttemptAt: undefined, deferredSince: undefined, lastError: undefined },
};
const gaveUp = (attempts: number): Cell => ({
  status: 'failed',
  attempts,
  effects: ['save', 'forget', 'mark', 'report:gave-up'],
});
const startedRound = (attempts: number, keep: boolean): Cell => ({
  status: 'pending',
  attempts,
  effects: ['save'],
  record: {
    lastAttemptAt: new Date(NOW),
    // base 1 s doubling, no jitter; the round's last attempt (3 of 3) has no next one
    nextAttemptAt: attempts < 3 ? new Date(NOW + 1_000 * 2 ** (attempts - 1)) : undefined,
    ...(keep ? { lastError: 'registry_denied', deferredSince: new Date(NOW - 600_000) } : {}),
  },
});
const retrying = (attempts: number, nextAttemptAt?: number): Cell => ({
  status: 'pending',
  attempts,
  effects: ['save', 'mark', 'report:retrying'],
  requeueAfterMs: nextAttemptAt === undefined ? 0 : nextAttemptAt - NOW,
  record: { deferredSince: undefined },
});
const deferred = (attempts: number, since: number): Cell => ({
  status: 'pending',
  attempts,
  effects: ['save', 'report:deferred'],
  requeueAfterMs: 30_000,
  record: { nextAttemptAt: new Date(NOW + 30_000), deferredSince: new Date(since) },
});

/** Every state × outcome: removing the handling of any one cell fails its row. */
const TABLE: Record<State, Record<string, Cell>> = {
  none: {
    started: startedRound(1, false),
    attested,
    'failed (retryable)': retrying(0),
    'failed (not retryable)': gaveUp(0),
    'failed (registry down)': deferred(0, NOW),
    abandoned: ignored,
    refused: gaveUp(0),
    'mark-lost': ignored,
  },
  pending: {
    started: startedRound(3, true),
    attested,
    'failed (retryable)': retrying(2, NOW + 2_000),
    'failed (not retryable)': gaveUp(2),
    'failed (registry down)': deferred(1, NOW - 600_000),
    abandoned: gaveUp(2),
    refused: gaveUp(2),
    'mark-lost': ignored,
  },
  attested: {
    started: ignored,
    attested,
    'failed (retryable)': ignored,
    'failed (not retryable)': ignored,
    'failed (registry down)': ignored,
    abandoned: ignored,
    refused: ignored,
    'mark-lost': { status: 'attested', attempts: 2, effects: ['report:mismatch', 'mark'] },
  },
  failed: {
    started: startedRound(1, false),
    attested,
    'failed (retryable)': retrying(2, NOW + 2_000),
    'failed (not retryable)': gaveUp(2),
    'failed (registry down)': deferred(1, NOW - 600_000),
    abandoned: ignored,
    refused: gaveUp(2),
    'mark-lost': ignored,
  },
};

const kinds = (t: Transition) =>
  t.effects.map((e) => (e.kind === 'report' ? `report:${e.report.kind}` : e.kind));

describe('transition(): every run record state × every outcome', () => {
  it('the table covers every pair', () => {
    for (const state of STATES)
      expect(Object.keys(TABLE[state]).sort()).toEqual(Object.keys(OUTCOMES).sort());
  });

  for (const state of STATES)
    for (const [name, outcome] of Object.entries(OUTCOMES))
      it(`${state} + ${name}`, () => {
        const cell = TABLE[state][name] as Cell;
        const before = record(state);
        const t = transition(before, run, outcome, ctx);
        expect(kinds(t)).toEqual(cell.effects);
        if (cell === ignored) {
          // nothing written: the record is the one read (a fresh one when there was none)
          if (before) expect(t.record).toBe(before);
          expect(t.effects.some((e) => e.kind === 'save')).toBe(false);
          return;
        }
        expect(t.record.status).toBe(cell.status);
        if (cell.attempts !== undefined) expect(t.record.attempts).toBe(cell.attempts);
        for (const [field, value] of Object.entries(cell.record ?? {}))
          expect(t.record[field as keyof RunRecord], field).toEqual(value);
        expect(t.requeueAfterMs).toBe(cell.requeueAfterMs);
        expect(t.record.uid).toBe('u1');
      });
});

describe('transition(): the rules behind the table', () => {
  it('a round deferred past the registry wait fails with registry_unavailable', () => {
    const long = { ...(record('pending') as RunRecord), deferredSince: new Date(NOW - 3_600_000) };
    const t = transition(long, run, OUTCOMES['failed (registry down)'] as RunOutcome, ctx);
    expect(t.record.status).toBe('failed');
    expect(t.record.lastError).toMatch(/^registry_unavailable: registry unavailable for 3600 s/);
    expect(kinds(t)).toEqual(['save', 'forget', 'mark', 'report:gave-up']);
  });

  it('the last attempt of a round gives up instead of retrying', () => {
    const last = { ...(record('pending') as RunRecord), attempts: 3 };
    expect(transition(last, run, OUTCOMES['failed (retryable)'] as RunOutcome, ctx).record.status).toBe(
      'failed',
    );
  });

  it('marks say what happened: signed=true, retries=n, signed=failed with the count', () => {
    const marks = (t: Transition) => t.effects.flatMap((e) => (e.kind === 'mark' ? [e.annotations] : []));
    const pending = record('pending');
    expect(marks(transition(pending, run, { kind: 'attested' }, ctx))).toEqual([
      { 'chains.tekton.dev/signed': 'true' },
    ]);
    expect(marks(transition(pending, run, OUTCOMES['failed (retryable)'] as RunOutcome, ctx))).toEqual([
      { 'chains.tekton.dev/retries': '2' },
    ]);
    expect(marks(transition(pending, run, { kind: 'abandoned' }, ctx))).toEqual([
      { 'chains.tekton.dev/signed': 'failed', 'chains.tekton.dev/retries': '2' },
    ]);
  });

  it('is pure: the same input gives the same output, and the input record is not changed', () => {
    const before = record('pending');
    const copy = structuredClone(before);
    const a = transition(before, run, { kind: 'started' }, ctx);
    const b = transition(before, run, { kind: 'started' }, ctx);
    expect(a).toEqual(b);
    expect(before).toEqual(copy);
  });
});
