import { describe, expect, it } from 'vitest';
import { CachedAuthorizer } from '../../../src/http/index.ts';
import { fakeAuthorizer } from './fake-authorizer.ts';

const alice = { user: 'alice', groups: ['devs'] };
const setup = (delayMs = 0) => {
  const clock = { t: 0 };
  const fake = fakeAuthorizer({ tokens: { good: alice }, grants: ['alice tenant-a TaskRun'], delayMs });
  const cached = new CachedAuthorizer({ inner: fake.authorizer, ttlMs: 10_000, now: () => clock.t });
  return { clock, fake, cached };
};

describe('CachedAuthorizer', () => {
  it('reuses valid and invalid token decisions for ttlMs, then asks again', async () => {
    const { clock, fake, cached } = setup();
    expect(await cached.authenticate('good')).toEqual(alice);
    expect(await cached.authenticate('bad')).toBeUndefined();
    clock.t = 9_999;
    expect(await cached.authenticate('good')).toEqual(alice);
    expect(await cached.authenticate('bad')).toBeUndefined();
    expect(fake.state.authenticateCalls).toBe(2);
    clock.t = 10_000;
    await cached.authenticate('good');
    await cached.authenticate('bad');
    expect(fake.state.authenticateCalls).toBe(4);
  });

  it('caches access decisions per caller (groups included), namespace and kind', async () => {
    const { fake, cached } = setup();
    expect(await cached.canGetRuns(alice, 'tenant-a', 'TaskRun')).toBe(true);
    expect(await cached.canGetRuns(alice, 'tenant-a', 'TaskRun')).toBe(true);
    expect(await cached.canGetRuns(alice, 'tenant-a', 'PipelineRun')).toBe(false);
    expect(await cached.canGetRuns(alice, 'tenant-b', 'TaskRun')).toBe(false);
    expect(await cached.canGetRuns({ ...alice, groups: ['devs', 'admins'] }, 'tenant-a', 'TaskRun')).toBe(
      true,
    );
    expect(fake.state.accessCalls).toBe(4);
  });

  it('shares one in-flight review among concurrent identical questions', async () => {
    const { fake, cached } = setup(10);
    const answers = await Promise.all(Array.from({ length: 50 }, () => cached.authenticate('good')));
    expect(answers.every((a) => a?.user === 'alice')).toBe(true);
    expect(fake.state.authenticateCalls).toBe(1);
  });

  it('does not cache failures: the next request asks again', async () => {
    const { fake, cached } = setup();
    fake.state.fail = true;
    await expect(cached.authenticate('good')).rejects.toMatchObject({ code: 'kube', retryable: true });
    fake.state.fail = false;
    expect(await cached.authenticate('good')).toEqual(alice);
    expect(fake.state.authenticateCalls).toBe(2);
  });

  it('limits reviews in flight and fails fast, retryable, when the queue is full', async () => {
    const fake = fakeAuthorizer({ tokens: {}, grants: [], delayMs: 5 });
    const cached = new CachedAuthorizer({ inner: fake.authorizer, maxInFlight: 3, maxQueued: 10 });
    const results = await Promise.allSettled(
      Array.from({ length: 40 }, (_, i) => cached.authenticate(`t${i}`)),
    );
    expect(fake.state.maxInFlight).toBe(3);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(13);
    const rejected = results.filter((r) => r.status === 'rejected');
    expect(rejected).toHaveLength(27);
    expect((rejected[0] as PromiseRejectedResult).reason).toMatchObject({ code: 'kube', retryable: true });
    // once drained, it serves again
    expect(await cached.authenticate('later')).toBeUndefined();
  });
});
