import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../../src/config/index.ts';
import { ObserverError } from '../../../src/errors.ts';
import {
  type ClaimResult,
  type RunClaims,
  type RunRecords,
  type RunWork,
  SqliteIndex,
} from '../../../src/index/index.ts';
import type { Fence, RunRecord } from '../../../src/model/index.ts';
import { createMetrics } from '../../../src/observability/index.ts';
import { Reconciler } from '../../../src/reconcile/index.ts';
import type { RunKey } from '../../../src/tekton/run-ref.ts';
import {
  doneTaskRun,
  FakeAttestor,
  FakeEvents,
  FakeRunApi,
  fakeSigner,
  okOutcome,
  silentLogger,
} from '../fakes.ts';

const SIGNED = 'chains.tekton.dev/signed';
const key: RunKey = { kind: 'TaskRun', namespace: 'tenant-a', name: 'build-1' };

/**
 * Claims in memory, one holder per run, with fencing tokens; `onClaim` runs before a claim is
 * granted (another replica's work). Fenced record writes are checked here and then written to the
 * real index (`records`) unfenced.
 */
class FakeClaims
  implements
    Pick<RunClaims, 'claimRun' | 'renewClaim' | 'releaseClaim' | 'getRunWork'>,
    Pick<RunRecords, 'holdsClaim' | 'putRunRecord'>
{
  readonly calls: string[] = [];
  readonly holders = new Map<string, { owner: string; expiresAt: number; fence: number }>();
  now = Date.parse('2026-11-26T10:00:05Z');
  onClaim: () => Promise<void> = async () => {};
  records: Pick<RunRecords, 'putRunRecord'> | undefined;
  async claimRun(uid: string, owner: string, leaseMs: number): Promise<ClaimResult> {
    await this.onClaim();
    const h = this.holders.get(uid);
    const free = !h || h.owner === owner || h.expiresAt <= this.now;
    this.calls.push(`claim ${owner} ${free}`);
    if (!free) return { held: false, expiresAt: new Date(h.expiresAt) };
    const fence = h?.owner === owner ? h.fence : (h?.fence ?? 0) + 1;
    this.holders.set(uid, { owner, expiresAt: this.now + leaseMs, fence });
    return { held: true, fence };
  }
  async renewClaim(uid: string, { owner, fence }: Fence, leaseMs: number) {
    const h = this.holders.get(uid);
    this.calls.push(`renew ${owner}`);
    if (h?.owner !== owner || h.fence !== fence) return false;
    h.expiresAt = this.now + leaseMs;
    return true;
  }
  async holdsClaim(uid: string, { owner, fence }: Fence) {
    const h = this.holders.get(uid);
    return h?.owner === owner && h.fence === fence;
  }
  async putRunRecord(record: RunRecord, fence?: Fence) {
    if (fence && !(await this.holdsClaim(record.uid, fence))) return false;
    return (await this.records?.putRunRecord(record)) ?? false;
  }
  async releaseClaim(uid: string, owner: string) {
    this.calls.push(`release ${owner}`);
    if (this.holders.get(uid)?.owner === owner) this.holders.delete(uid);
  }
  async getRunWork(uid: string): Promise<RunWork> {
    const h = this.holders.get(uid);
    return {
      uid,
      ...(h ? { claim: { owner: h.owner, expiresAt: new Date(h.expiresAt), fence: h.fence } } : {}),
    };
  }
}

/** The index for everything but claims, which go to `claims`. */
function withClaims(index: SqliteIndex, claims: FakeClaims): SqliteIndex {
  claims.records = index;
  return new Proxy(index, {
    get(target, p) {
      const own = p in claims ? (claims as unknown as Record<PropertyKey, unknown>)[p] : undefined;
      const value = own ?? (target as unknown as Record<PropertyKey, unknown>)[p];
      return typeof value === 'function' ? value.bind(own ? claims : target) : value;
    },
  });
}

describe('Reconciler claims (replicas share runs through the index)', () => {
  let runs: FakeRunApi;
  let index: SqliteIndex;
  let claims: FakeClaims;
  let attestor: FakeAttestor;
  let events: FakeEvents;
  const replica = (owner: string, idx: SqliteIndex = withClaims(index, claims), metrics = createMetrics()) =>
    new Reconciler({
      config: parseConfig({
        'observer.success-events': 'true',
        'observer.claim-lease-seconds': '30',
        'attestation.max-attempts': '3',
      }),
      runApi: runs,
      index: idx,
      attestor,
      events,
      metrics,
      logger: silentLogger(),
      signer: () => fakeSigner,
      owner,
      clock: () => claims.now,
    });

  beforeEach(() => {
    runs = new FakeRunApi();
    index = new SqliteIndex({ path: ':memory:' });
    claims = new FakeClaims();
    attestor = new FakeAttestor();
    events = new FakeEvents();
    runs.put('TaskRun', doneTaskRun('build-1', 'u1'));
  });
  afterEach(() => vi.useRealTimers());

  it('claims before the attempt and releases after it', async () => {
    attestor.outcomes.push(okOutcome('u1'));
    await replica('a').reconcile(key, 'r1');
    expect(claims.calls).toEqual(['claim a true', 'release a']);
    expect(runs.annotation(key, SIGNED)).toBe('true');
    expect(claims.holders.size).toBe(0);
  });

  it('reads the run once when the index state did not change while claiming; again when it did', async () => {
    let gets = 0;
    const get = runs.get.bind(runs);
    runs.get = async (k) => {
      gets++;
      return get(k);
    };
    attestor.outcomes.push(okOutcome('u1'));
    await replica('a').reconcile(key, 'r1');
    expect(gets).toBe(1);
    // the mark removed: restoring it re-reads the run once claimed (another replica may be marking it)
    await runs.patchAnnotations(key, { [SIGNED]: null });
    gets = 0;
    await replica('a').reconcile(key, 'r2');
    expect(gets).toBe(2);
  });

  it('a run another replica holds waits out its lease: no attempt, none counted', async () => {
    claims.holders.set('u1', { owner: 'b', expiresAt: claims.now + 12_000, fence: 1 });
    expect(await replica('a').reconcile(key, 'r1')).toEqual({
      requeueAfterMs: 12_000,
      waitingForClaim: true,
    });
    expect(attestor.calls).toHaveLength(0);
    expect(await index.getRunWork('u1')).toBeUndefined();
    expect(await index.getRunRecord('u1')).toBeUndefined();
    expect(claims.calls).toEqual(['claim a false']);
  });

  it('takes over a run whose holder stopped once its lease ran out', async () => {
    claims.holders.set('u1', { owner: 'dead', expiresAt: claims.now + 12_000, fence: 1 });
    claims.now += 12_000;
    attestor.outcomes.push(okOutcome('u1'));
    await replica('a').reconcile(key, 'r1');
    expect(attestor.calls).toHaveLength(1);
    expect((await index.getRunRecord('u1'))?.status).toBe('attested');
  });

  it('re-reads after claiming: a run another replica finished meanwhile is left alone, no tamper Event', async () => {
    const other = replica('b', index);
    claims.onClaim = async () => {
      claims.onClaim = async () => {};
      attestor.outcomes.push(okOutcome('u1'));
      await other.reconcile(key, 'other'); // finishes, records, marks signed=true
    };
    const callsBefore = attestor.calls.length;
    await replica('a').reconcile(key, 'r1');
    expect(attestor.calls.length - callsBefore).toBe(1); // only the other replica's attempt
    expect(events.reasons()).toEqual(['Attested']);
    expect(runs.patches.filter((p) => p.annotations[SIGNED] === 'true')).toHaveLength(1);
  });

  it('restoring a removed mark waits for the claim too (the holder may be marking it right now)', async () => {
    attestor.outcomes.push(okOutcome('u1'));
    await replica('b', index).reconcile(key, 'b1');
    await runs.patchAnnotations(key, { [SIGNED]: null });
    claims.holders.set('u1', { owner: 'b', expiresAt: claims.now + 5_000, fence: 1 });
    expect(await replica('a').reconcile(key, 'r1')).toEqual({ requeueAfterMs: 5_000, waitingForClaim: true });
    expect(events.reasons()).not.toContain('AnnotationMismatch');
  });

  it('releases the claim when the attempt fails', async () => {
    attestor.attest = async () => {
      throw new ObserverError('registry down', { code: 'registry', retryable: true });
    };
    expect(await replica('a').reconcile(key, 'r1')).toMatchObject({ attempted: true, attested: false });
    expect(claims.calls.at(-1)).toBe('release a');
    expect(claims.holders.size).toBe(0);
  });

  it('a stale replica whose claim moved on writes nothing: its late failure never undoes the attestation', async () => {
    let fail: (() => void) | undefined;
    attestor.attest = () =>
      new Promise((_, reject) => {
        fail = () => reject(new ObserverError('registry down', { code: 'registry', retryable: false }));
      });
    const metrics = createMetrics();
    const staleRun = replica('a', withClaims(index, claims), metrics).reconcile(key, 'stale');
    await vi.waitFor(() => expect(fail).toBeDefined());
    // replica a is cut off: its lease lapses, b takes the run over and attests it
    claims.now += 31_000;
    attestor.attest = FakeAttestor.prototype.attest.bind(attestor);
    attestor.outcomes.push(okOutcome('u1'));
    await replica('b').reconcile(key, 'fresh');
    expect(runs.annotation(key, SIGNED)).toBe('true');
    // a's attempt now fails for good: it would give up (signed=failed) were its writes not fenced
    fail?.();
    await staleRun;
    expect(runs.annotation(key, SIGNED)).toBe('true');
    expect((await index.getRunRecord('u1'))?.status).toBe('attested');
    expect(events.reasons()).not.toContain('AttestationFailed');
    const fenced = (await metrics.fencedWrites.get()).values.find((v) => v.labels.kind === 'TaskRun');
    expect(fenced?.value).toBe(1);
  });

  it('renews the claim every third of the lease while the attempt runs', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'] });
    let finish: (o: ReturnType<typeof okOutcome>) => void = () => {};
    attestor.attest = async () => new Promise((resolve) => (finish = resolve));
    const done = replica('a').reconcile(key, 'r1');
    await vi.waitFor(() => expect(claims.calls).toContain('claim a true'));
    await vi.advanceTimersByTimeAsync(25_000);
    expect(claims.calls.filter((c) => c === 'renew a')).toHaveLength(2);
    finish(okOutcome('u1'));
    await done;
    await vi.advanceTimersByTimeAsync(30_000);
    expect(claims.calls.filter((c) => c === 'renew a')).toHaveLength(2);
    expect(claims.calls.at(-1)).toBe('release a');
  });

  it('two replicas on one SQLite index reconciling the same run at once: one attempt', async () => {
    attestor.outcomes.push(okOutcome('u1'));
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const attest = attestor.attest.bind(attestor);
    attestor.attest = async (...args: Parameters<FakeAttestor['attest']>) => {
      await gate;
      return attest(...args);
    };
    const a = replica('a', index).reconcile(key, 'a');
    const b = replica('b', index).reconcile(key, 'b');
    await vi.waitFor(async () => expect((await index.getRunRecord('u1'))?.attempts).toBe(1));
    release();
    const results = await Promise.all([a, b]);
    expect(attestor.calls).toHaveLength(1);
    expect(results.filter((r) => r.requeueAfterMs !== undefined)).toHaveLength(1);
    expect((await index.getRunRecord('u1'))?.status).toBe('attested');
  });
});
