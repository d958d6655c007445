import { describe, expect, it } from 'vitest';
import {
  FinalizerRunHold,
  LEGACY_OBSERVER_FINALIZERS,
  OBSERVER_FINALIZER,
  type RunApi,
  type RunObject,
} from '../../../src/kube/index.ts';
import { createLogger } from '../../../src/observability/index.ts';

const key = { kind: 'TaskRun' as const, namespace: 'ns', name: 'build' };

/** One run whose finalizers change under a resourceVersion precondition, like the apiserver's. */
class FakeRuns {
  rv = 1;
  finalizers: string[] = [];
  gone = false;
  readonly writes: string[][] = [];
  /** a change someone else makes right before our next write lands */
  interloper: (() => void) | undefined;
  object(): RunObject {
    return {
      metadata: { ...key, uid: 'u', resourceVersion: String(this.rv), finalizers: [...this.finalizers] },
    };
  }
  async get() {
    return this.gone ? undefined : this.object();
  }
  async setFinalizers(_k: unknown, finalizers: readonly string[], resourceVersion: string) {
    if (this.gone) return 'gone' as const;
    this.interloper?.();
    this.interloper = undefined;
    if (resourceVersion !== String(this.rv)) return 'conflict' as const;
    this.finalizers = [...finalizers];
    this.rv++;
    this.writes.push([...finalizers]);
    return 'ok' as const;
  }
}
FakeRuns satisfies new () => Pick<RunApi, 'get' | 'setFinalizers'>;

const holdOn = (runs: FakeRuns) =>
  new FinalizerRunHold({ runApi: runs, logger: createLogger({ level: 'silent' }) });

describe('FinalizerRunHold', () => {
  it('adds our finalizer once, beside the others, and removes only ours', async () => {
    const runs = new FakeRuns();
    runs.finalizers = ['tenant/keep'];
    const hold = holdOn(runs);
    await hold.hold(key, runs.object());
    await hold.hold(key, runs.object()); // already there: no write
    expect(runs.writes).toEqual([['tenant/keep', OBSERVER_FINALIZER]]);
    await hold.release(key, runs.object());
    await hold.release(key, runs.object()); // gone already: no write
    expect(runs.finalizers).toEqual(['tenant/keep']);
    expect(runs.writes).toHaveLength(2);
  });

  it('on a conflict re-reads the run, so a finalizer added meanwhile is kept', async () => {
    const runs = new FakeRuns();
    runs.finalizers = [OBSERVER_FINALIZER];
    const stale = runs.object();
    runs.interloper = () => {
      runs.finalizers.push('tenant/late');
      runs.rv++;
    };
    await holdOn(runs).release(key, stale);
    expect(runs.finalizers).toEqual(['tenant/late']);
  });

  it('lets a run that is being deleted before it finished go instead of holding it', async () => {
    const runs = new FakeRuns();
    runs.finalizers = [OBSERVER_FINALIZER];
    const deleting = { metadata: { ...runs.object().metadata, deletionTimestamp: '2026-11-27T10:00:00Z' } };
    await holdOn(runs).hold(key, deleting);
    expect(runs.finalizers).toEqual([]);
  });

  it("is in our own domain, not in Tekton Chains' chains.tekton.dev", () => {
    expect(OBSERVER_FINALIZER).toBe('provenance-observer.dev/capture');
    expect(LEGACY_OBSERVER_FINALIZERS).toEqual(['chains.tekton.dev/provenance-observer']);
  });

  it('after an upgrade replaces the old name when holding, and removes it when releasing', async () => {
    const [legacy] = LEGACY_OBSERVER_FINALIZERS as [string];
    const runs = new FakeRuns();
    runs.finalizers = ['tenant/keep', legacy];
    await holdOn(runs).hold(key, runs.object());
    expect(runs.finalizers).toEqual(['tenant/keep', OBSERVER_FINALIZER]);
    runs.finalizers = [legacy, 'tenant/keep'];
    await holdOn(runs).release(key, runs.object());
    expect(runs.finalizers).toEqual(['tenant/keep']);
    // an old run that carries both (held by the old build, then seen by the new one) is let go of both
    runs.finalizers = [legacy, OBSERVER_FINALIZER];
    await holdOn(runs).release(key, runs.object());
    expect(runs.finalizers).toEqual([]);
  });

  it('a run gone meanwhile needs nothing, and never throws', async () => {
    const runs = new FakeRuns();
    runs.finalizers = [OBSERVER_FINALIZER];
    const before = runs.object();
    runs.gone = true;
    await expect(holdOn(runs).release(key, before)).resolves.toBeUndefined();
  });
});
