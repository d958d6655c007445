import { describe, expect, it } from 'vitest';
import { childOwnership } from '../../../src/policy/index.ts';

const pr = { metadata: { uid: 'pr-uid' }, status: { completionTime: '2026-11-26T10:05:00Z' } };
const child = (owner: string | undefined, created: string) => ({
  metadata: {
    name: 'pr-build',
    creationTimestamp: created,
    ...(owner ? { ownerReferences: [{ kind: 'PipelineRun', uid: owner }] } : {}),
  },
});

describe('childOwnership', () => {
  it('counts a child owned by the PipelineRun and created strictly before it completed', () => {
    expect(childOwnership(pr, child('pr-uid', '2026-11-26T10:00:00Z'))).toEqual({ owned: true });
    expect(childOwnership(pr, child('pr-uid', '2026-11-26T10:04:59Z'))).toEqual({ owned: true });
  });
  it('the completion second is not "before" (one-second timestamps): trusted only if seen earlier', () => {
    const sameSecond = { ...child('pr-uid', '2026-11-26T10:05:00Z') };
    sameSecond.metadata = { ...sameSecond.metadata, uid: 'c1' } as typeof sameSecond.metadata;
    expect(childOwnership(pr, sameSecond)).toMatchObject({
      owned: false,
      reason: 'created_after_completion',
    });
    expect(childOwnership(pr, sameSecond, { uid: 'c1', at: new Date('2026-11-26T10:04:59.900Z') })).toEqual({
      owned: true,
    });
    expect(
      childOwnership(pr, sameSecond, { uid: 'c1', at: new Date('2026-11-26T10:05:00.100Z') }),
    ).toMatchObject({
      reason: 'created_after_completion',
    });
    expect(childOwnership(pr, sameSecond, { uid: 'c0', at: new Date(0) })).toMatchObject({
      reason: 'replaced',
    });
  });
  it('refuses a child without the owner, or created after completion (the swap)', () => {
    expect(childOwnership(pr, child(undefined, '2026-11-26T10:00:00Z'))).toMatchObject({
      owned: false,
      reason: 'not_owned',
    });
    expect(childOwnership(pr, child('other', '2026-11-26T10:00:00Z'))).toMatchObject({
      owned: false,
      reason: 'not_owned',
    });
    expect(childOwnership(pr, child('pr-uid', '2026-11-26T10:05:01Z'))).toMatchObject({
      owned: false,
      reason: 'created_after_completion',
    });
    expect(
      childOwnership(pr, {
        metadata: {
          name: 'x',
          ownerReferences: [{ uid: 'pr-uid' }],
          creationTimestamp: new Date('2026-11-26T11:00:00Z'),
        },
      }),
    ).toMatchObject({ owned: false, reason: 'created_after_completion' });
  });
});
