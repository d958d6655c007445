import { describe, expect, it } from 'vitest';
import { SqliteIndex } from '../../../src/index/index.ts';
import { doneTaskRun, fakeReconciler, okOutcome } from '../fakes.ts';

const key = { kind: 'TaskRun', namespace: 'tenant-a', name: 'build-1' } as const;

describe('observer.success-events', () => {
  it.each([
    ['false', 'the default', []],
    ['true', 'asked for', ['Attested']],
  ] as const)(
    '%s (%s): a run attested gets these Normal Events: %j; marked and counted either way',
    async (value, _, reasons) => {
      const index = new SqliteIndex({ path: ':memory:' });
      const { runs, attestor, events, reconciler, metrics } = fakeReconciler(index, {
        'observer.success-events': value,
      });
      runs.put('TaskRun', doneTaskRun('build-1', 'u1'));
      attestor.outcomes.push(okOutcome('u1'));
      expect(await reconciler.reconcile(key, 'r1')).toEqual({ attempted: true, attested: true });
      expect(events.events.filter((e) => e.type === 'Normal').map((e) => e.reason)).toEqual(reasons);
      expect(runs.annotation(key, 'chains.tekton.dev/signed')).toBe('true');
      expect((await metrics.runsAttested.get()).values[0]?.value).toBe(1);
    },
  );

  it('leaves Warnings on: a run signed but whose input was left out still says so', async () => {
    const index = new SqliteIndex({ path: ':memory:' });
    const { runs, attestor, events, reconciler } = fakeReconciler(index, {
      'observer.success-events': 'false',
    });
    runs.put('TaskRun', doneTaskRun('build-1', 'u1'));
    const outcome = okOutcome('u1');
    attestor.outcomes.push({
      ...outcome,
      skipped: [{ source: 'result IMAGE_URL', code: 'digest_invalid', reason: 'not an image reference' }],
    } as never);
    await reconciler.reconcile(key, 'r1');
    expect(events.events.filter((e) => e.type === 'Warning').length).toBeGreaterThan(0);
  });
});
