import { describe, expect, it } from 'vitest';
import { ObserverError } from '../../../src/errors.ts';
import { type AttestationIndex, attestationId, type ClaimResult } from '../../../src/index/index.ts';
import { digestOf, newAttestation } from './attestation-fixtures.ts';

/** A fresh, empty index on a clock the test moves (`clock.now` ms since the epoch). */
export type IndexFactory = (clock: { now: number }) => Promise<AttestationIndex>;

const run = { kind: 'TaskRun' as const, namespace: 'tenant-a', name: 'build-1' };

/**
 * What every AttestationIndex promises, run against each implementation (SQLite in the unit
 * project, PostgreSQL in the integration project): the same ids, orderings, cursors, states,
 * claims, attempts and retention.
 */
export function indexContract(name: string, factory: IndexFactory): void {
  const open = async (now = 1_000_000) => {
    const clock = { now };
    return { index: await factory(clock), clock };
  };

  describe(`${name}: attestations`, () => {
    it('records an attestation and reads back its summary and exact envelope', async () => {
      const { index } = await open();
      const a = newAttestation({ digests: [digestOf('app'), digestOf('lib')] });
      const id = await index.addAttestation(a);
      expect(id).toBe(attestationId(a.run.uid, a.envelope));
      expect(await index.getAttestation(id)).toEqual({
        id,
        run: a.run,
        predicateType: a.predicateType,
        subjects: [...a.subjects].sort((x, y) => x.name.localeCompare(y.name)),
        keyId: a.keyId,
        origin: 'observer',
        storage: a.storage,
        createdAt: a.createdAt,
      });
      expect(await index.getEnvelope(id)).toEqual(a.envelope);
      expect(await index.getAttestation('0'.repeat(64))).toBeUndefined();
      expect(await index.getEnvelope('0'.repeat(64))).toBeUndefined();
      await index.close();
    });

    it("keeps a resign job's progress: upserted by id, read back, forgotten", async () => {
      const { index } = await open();
      const job = {
        id: 'j1',
        selection: '{}',
        resigned: 0,
        current: 0,
        failed: 0,
        updatedAt: new Date(1000),
      };
      expect(await index.getResignJob('j1')).toBeUndefined();
      await index.putResignJob(job);
      expect(await index.getResignJob('j1')).toEqual(job);
      const later = {
        ...job,
        cursor: 'TaskRun/ns/b',
        resigned: 3,
        current: 2,
        failed: 1,
        updatedAt: new Date(2000),
      };
      await index.putResignJob(later);
      expect(await index.getResignJob('j1')).toEqual(later);
      await index.deleteResignJob('j1');
      expect(await index.getResignJob('j1')).toBeUndefined();
      await index.close();
    });

    it("records who signed: an attestation adopted from Tekton Chains reads back with origin 'chains'", async () => {
      const { index } = await open();
      const a = { ...newAttestation({ name: 'adopted', sig: 'chains' }), origin: 'chains' as const };
      const id = await index.addAttestation(a);
      expect(await index.getAttestation(id)).toMatchObject({ origin: 'chains', keyId: a.keyId });
      const [summary] = await index.findByRun(a.run);
      expect(summary?.origin).toBe('chains');
      await index.close();
    });

    it('keeps the skipped inputs with their reason codes, and reads none back as absent', async () => {
      const { index } = await open();
      const skipped = [
        { source: 'TaskRun/b results.BAD_IMAGE_DIGEST', code: 'digest_invalid', reason: 'not hex' },
      ];
      const id = await index.addAttestation({ ...newAttestation({ name: 'skips' }), skipped });
      expect((await index.getAttestation(id))?.skipped).toEqual(skipped);
      const none = await index.addAttestation(newAttestation({ name: 'no-skips' }));
      expect(await index.getAttestation(none)).not.toHaveProperty('skipped');
      await index.close();
    });

    it('is idempotent: the same envelope for the same run keeps one row and the latest storage outcomes', async () => {
      const { index } = await open();
      const first = newAttestation({});
      const again = {
        ...first,
        createdAt: new Date('2025-02-01T00:00:00Z'),
        storage: [{ backend: 'oci' as const, ok: false, locations: [], error: 'registry down' }],
      };
      const id1 = await index.addAttestation(first);
      const bytes = await index.payloadBytes('tenant-a');
      expect(await index.addAttestation(again)).toBe(id1);
      const page = await index.findByDigest(digestOf('app'), { limit: 10 });
      expect(page.items).toHaveLength(1);
      expect(page.items[0].storage).toEqual(again.storage);
      expect(page.items[0].createdAt).toEqual(first.createdAt);
      expect(await index.payloadBytes('tenant-a')).toBe(bytes); // counted once
      // another run (different uid) with the same envelope is a different attestation
      expect(await index.addAttestation({ ...first, run: { ...first.run, uid: 'uid-2' } })).not.toBe(id1);
      await index.close();
    });

    it('rejects a subject digest that is not alg:hex, without writing anything', async () => {
      const { index } = await open();
      const err = await index
        .addAttestation(newAttestation({ digests: [digestOf('ok'), 'latest'] }))
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ObserverError);
      expect(err).toMatchObject({ code: 'input_invalid', retryable: false });
      expect((err as ObserverError).message).toContain('TaskRun tenant-a/build-1');
      expect((await index.findByDigest(digestOf('ok'), { limit: 5 })).items).toEqual([]);
      expect(await index.payloadBytes('tenant-a')).toBe(0);
      await index.close();
    });

    it('matches digests case-insensitively', async () => {
      const { index } = await open();
      await index.addAttestation(
        newAttestation({ digests: [digestOf('app').toUpperCase().replace('SHA256', 'sha256')] }),
      );
      expect((await index.findByDigest(digestOf('app'), { limit: 5 })).items).toHaveLength(1);
      expect((await index.findByDigest(digestOf('app').toUpperCase(), { limit: 5 })).items).toHaveLength(1);
      await index.close();
    });

    it('paginates findByDigest newest first with a stable keyset cursor, ties broken by id', async () => {
      const { index } = await open();
      const ids: { id: string; t: number }[] = [];
      for (let i = 0; i < 7; i++) {
        const t = 1_000 + Math.floor(i / 2); // pairs share a timestamp
        const id = await index.addAttestation(
          newAttestation({ name: `r-${i}`, sig: `s${i}`, createdAt: new Date(t) }),
        );
        ids.push({ id, t });
      }
      await index.addAttestation(newAttestation({ name: 'other', digests: [digestOf('other')] }));
      const expected = [...ids].sort((a, b) => b.t - a.t || (a.id < b.id ? 1 : -1)).map((x) => x.id);
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await index.findByDigest(digestOf('app'), { limit: 3, cursor });
        seen.push(...page.items.map((i) => i.id));
        cursor = page.next;
        pages++;
        // a row added mid-walk (newer than everything) must not shift later pages
        if (pages === 1)
          await index.addAttestation(
            newAttestation({ name: 'late', sig: 'late', createdAt: new Date(9_999) }),
          );
      } while (cursor);
      expect(seen).toEqual(expected);
      expect(pages).toBe(3);
      await index.close();
    });

    it('lists the (namespace, kind) pairs of a digest, and pages within given scopes only', async () => {
      const { index } = await open();
      const add = (namespace: string, kind: 'TaskRun' | 'PipelineRun', t: number) =>
        index.addAttestation(
          newAttestation({ namespace, kind, name: `r-${t}`, sig: `s${t}`, createdAt: new Date(t) }),
        );
      await add('tenant-b', 'TaskRun', 1000);
      const a1 = await add('tenant-a', 'TaskRun', 1001);
      await add('tenant-b', 'TaskRun', 1002);
      const a3 = await add('tenant-a', 'TaskRun', 1003);
      await add('tenant-a', 'PipelineRun', 1004);
      await add('tenant-b', 'TaskRun', 1005);
      expect(await index.digestScopes(digestOf('app').toUpperCase())).toEqual([
        { namespace: 'tenant-a', kind: 'PipelineRun' },
        { namespace: 'tenant-a', kind: 'TaskRun' },
        { namespace: 'tenant-b', kind: 'TaskRun' },
      ]);
      expect(await index.digestScopes(digestOf('none'))).toEqual([]);
      const scopes = [{ namespace: 'tenant-a', kind: 'TaskRun' as const }];
      const first = await index.findByDigest(digestOf('app'), { limit: 1, scopes });
      expect(first.items.map((i) => i.id)).toEqual([a3]);
      const second = await index.findByDigest(digestOf('app'), { limit: 1, scopes, cursor: first.next });
      expect(second.items.map((i) => i.id)).toEqual([a1]);
      expect(second.next).toBeUndefined(); // the older tenant-b row does not keep the listing open
      expect((await index.findByDigest(digestOf('app'), { limit: 5, scopes: [] })).items).toEqual([]);
      expect((await index.findByDigest(digestOf('app'), { limit: 10 })).items).toHaveLength(6);
      await index.close();
    });

    it('gives no next cursor when the last page is exactly full', async () => {
      const { index } = await open();
      for (let i = 0; i < 2; i++)
        await index.addAttestation(newAttestation({ name: `r-${i}`, sig: `s${i}` }));
      const page = await index.findByDigest(digestOf('app'), { limit: 2 });
      expect(page.items).toHaveLength(2);
      expect(page.next).toBeUndefined();
      await index.close();
    });

    it('rejects malformed cursors and limits as bad input', async () => {
      const { index } = await open();
      for (const cursor of ['!!', 'bm90LWEtY3Vyc29y', '']) {
        await expect(index.findByDigest(digestOf('app'), { limit: 2, cursor })).rejects.toMatchObject({
          code: 'input_invalid',
        });
      }
      await expect(index.findByDigest(digestOf('app'), { limit: 0 })).rejects.toMatchObject({
        code: 'input_invalid',
      });
      await index.close();
    });

    it('lists a run across uids (re-created runs) newest first, and not other kinds or namespaces', async () => {
      const { index } = await open();
      const older = await index.addAttestation(newAttestation({ uid: 'u1', createdAt: new Date(1) }));
      const newer = await index.addAttestation(newAttestation({ uid: 'u2', createdAt: new Date(2) }));
      await index.addAttestation(newAttestation({ kind: 'PipelineRun', uid: 'u3' }));
      await index.addAttestation(newAttestation({ namespace: 'tenant-b', uid: 'u4' }));
      const items = await index.findByRun(run);
      expect(items.map((i) => i.id)).toEqual([newer, older]);
      await index.close();
    });

    it('is healthy while open', async () => {
      const { index } = await open();
      expect(await index.healthy()).toBe(true);
      await index.close();
    });
  });

  describe(`${name}: run states`, () => {
    it('upserts by uid and finds states by run key, most recently updated first', async () => {
      const { index } = await open();
      const pending = { uid: 'u1', run, status: 'pending' as const, attempts: 1, lastError: 'registry down' };
      await index.putRunRecord({ ...pending, updatedAt: new Date(1) });
      expect(await index.getRunRecord('u1')).toEqual({ ...pending, updatedAt: new Date(1) });
      await index.putRunRecord({ uid: 'u1', run, status: 'attested', attempts: 1, updatedAt: new Date(3) });
      expect(await index.getRunRecord('u1')).toEqual({
        uid: 'u1',
        run,
        status: 'attested',
        attempts: 1,
        updatedAt: new Date(3),
      });
      await index.putRunRecord({
        uid: 'u0',
        run,
        status: 'failed',
        attempts: 5,
        lastError: 'x',
        updatedAt: new Date(2),
      });
      const otherKind = { ...run, kind: 'PipelineRun' as const };
      await index.putRunRecord({
        uid: 'u9',
        run: otherKind,
        status: 'failed',
        attempts: 5,
        updatedAt: new Date(4),
      });
      expect((await index.findRunRecords(run)).map((s) => s.uid)).toEqual(['u1', 'u0']);
      expect(await index.getRunRecord('missing')).toBeUndefined();
      await index.close();
    });

    it('rejects an unknown status (schema CHECK) as a non-retryable index error naming the run', async () => {
      const { index } = await open();
      const bad = { uid: 'u1', run, status: 'signed' as 'attested', attempts: 0, updatedAt: new Date(1) };
      await expect(index.putRunRecord(bad)).rejects.toMatchObject({
        code: 'index',
        retryable: false,
        message: expect.stringContaining('TaskRun tenant-a/build-1'),
      });
      await index.close();
    });
  });

  claimContract(name, open);
  retentionContract(name, open);
}

type Open = (now?: number) => Promise<{ index: AttestationIndex; clock: { now: number } }>;

function claimContract(name: string, open: Open): void {
  describe(`${name}: claims and fenced run records`, () => {
    const held = async (answer: Promise<ClaimResult>) => (await answer).held;
    const fenceOf = async (answer: Promise<ClaimResult>) => {
      const a = await answer;
      if (!a.held) throw new Error('claim not held');
      return a.fence;
    };

    it('one owner at a time; the holder may re-claim and renew; release frees it', async () => {
      const { index, clock } = await open();
      const fence = await fenceOf(index.claimRun('u1', 'replica-a', 30_000));
      expect(await index.claimRun('u1', 'replica-b', 30_000)).toEqual({
        held: false,
        expiresAt: new Date(clock.now + 30_000),
      });
      expect(await index.claimRun('u1', 'replica-a', 30_000)).toEqual({ held: true, fence }); // same token
      expect(await index.renewClaim('u1', { owner: 'replica-b', fence }, 30_000)).toBe(false);
      clock.now += 20_000;
      expect(await index.renewClaim('u1', { owner: 'replica-a', fence }, 30_000)).toBe(true);
      expect((await index.getRunWork('u1'))?.claim).toEqual({
        owner: 'replica-a',
        expiresAt: new Date(clock.now + 30_000),
        fence,
      });
      await index.releaseClaim('u1', 'replica-b'); // not the holder: no effect
      expect(await held(index.claimRun('u1', 'replica-b', 30_000))).toBe(false);
      await index.releaseClaim('u1', 'replica-a');
      expect((await index.getRunWork('u1'))?.claim).toBeUndefined();
      expect(await fenceOf(index.claimRun('u1', 'replica-b', 30_000))).toBe(fence + 1);
      expect(await held(index.claimRun('u2', 'replica-a', 30_000))).toBe(true); // claims are per run
      await index.close();
    });

    it('a lapsed lease can be taken by another owner, after which the old owner cannot renew', async () => {
      const { index, clock } = await open();
      const killed = await fenceOf(index.claimRun('u1', 'killed', 1_000));
      clock.now += 999;
      expect(await held(index.claimRun('u1', 'survivor', 1_000))).toBe(false);
      clock.now += 1;
      const survivor = await fenceOf(index.claimRun('u1', 'survivor', 1_000));
      expect(survivor).toBeGreaterThan(killed);
      expect(await index.renewClaim('u1', { owner: 'killed', fence: killed }, 1_000)).toBe(false);
      await index.releaseClaim('u1', 'killed');
      expect((await index.getRunWork('u1'))?.claim?.owner).toBe('survivor');
      await index.close();
    });

    it('of many concurrent claimers exactly one wins', async () => {
      const { index } = await open();
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => held(index.claimRun('contested', `replica-${i}`, 30_000))),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      await index.close();
    });

    it('rejects a lease that is not a positive whole number of ms', async () => {
      const { index } = await open();
      for (const lease of [0, -1, 1.5, Number.NaN])
        await expect(index.claimRun('u1', 'a', lease)).rejects.toMatchObject({ code: 'input_invalid' });
      await index.close();
    });

    it('keeps the retry spacing and the deferral clock in the run record, with its claim', async () => {
      const { index } = await open();
      const fence = await fenceOf(index.claimRun('u1', 'a', 5_000));
      const record = {
        uid: 'u1',
        run,
        status: 'pending' as const,
        attempts: 2,
        lastError: 'registry_denied',
        nextAttemptAt: new Date(4_000),
        deferredSince: new Date(3_000),
        updatedAt: new Date(2_000),
      };
      expect(await index.putRunRecord(record, { owner: 'a', fence })).toBe(true);
      expect(await index.getRunRecord('u1')).toEqual({
        ...record,
        claim: { owner: 'a', expiresAt: new Date(1_005_000), fence },
      });
      const { nextAttemptAt: _n, deferredSince: _d, ...settled } = record;
      await index.putRunRecord({ ...settled, status: 'attested', attempts: 0 }, { owner: 'a', fence });
      expect(await index.getRunRecord('u1')).not.toHaveProperty('nextAttemptAt');
      await index.close();
    });

    it('refuses a write fenced by a claim that has moved on, and writes nothing', async () => {
      const { index, clock } = await open();
      const stale = await fenceOf(index.claimRun('u1', 'stale', 1_000));
      const attested = { uid: 'u1', run, status: 'attested' as const, attempts: 0, updatedAt: new Date(1) };
      clock.now += 1_000; // the stale replica's lease lapses; another takes the run and attests it
      const fresh = await fenceOf(index.claimRun('u1', 'fresh', 1_000));
      expect(await index.putRunRecord(attested, { owner: 'fresh', fence: fresh })).toBe(true);
      const failed = { ...attested, status: 'failed' as const, attempts: 5, updatedAt: new Date(2) };
      expect(await index.holdsClaim('u1', { owner: 'stale', fence: stale })).toBe(false);
      expect(await index.putRunRecord(failed, { owner: 'stale', fence: stale })).toBe(false);
      // the same owner name with an old token is refused as well (a restarted replica reusing its name)
      expect(await index.putRunRecord(failed, { owner: 'fresh', fence: stale })).toBe(false);
      expect((await index.getRunRecord('u1'))?.status).toBe('attested');
      expect(await index.holdsClaim('u1', { owner: 'fresh', fence: fresh })).toBe(true);
      await index.close();
    });
  });
}

function retentionContract(name: string, open: Open): void {
  describe(`${name}: retention and payload bytes`, () => {
    it('counts stored envelope bytes per namespace', async () => {
      const { index } = await open();
      expect(await index.payloadBytes('tenant-a')).toBe(0);
      const a = newAttestation({ uid: 'u1' });
      await index.addAttestation(a);
      await index.addAttestation(newAttestation({ uid: 'u2', sig: 'other' }));
      await index.addAttestation(newAttestation({ namespace: 'tenant-b', uid: 'u3' }));
      const one = Buffer.byteLength(JSON.stringify(a.envelope));
      expect(await index.payloadBytes('tenant-a')).toBe(
        one + Buffer.byteLength(JSON.stringify(newAttestation({ sig: 'other' }).envelope)),
      );
      expect(await index.payloadBytes('tenant-b')).toBe(one);
      await index.close();
    });

    it('prunes every record of runs deleted before the cut-off, and only those', async () => {
      const { index } = await open();
      const oldRun = newAttestation({ uid: 'old', name: 'old' });
      const keptRun = newAttestation({ uid: 'kept', name: 'kept', sig: 'k' });
      const liveRun = newAttestation({ uid: 'live', name: 'live', sig: 'l' });
      for (const a of [oldRun, keptRun, liveRun]) {
        await index.addAttestation(a);
        await index.putRunRecord({
          uid: a.run.uid,
          run: a.run,
          status: 'attested',
          attempts: 1,
          updatedAt: new Date(1),
        });
        await index.claimRun(a.run.uid, 'replica', 1_000);
      }
      const liveBytes = Buffer.byteLength(JSON.stringify(liveRun.envelope));
      const keptBytes = Buffer.byteLength(JSON.stringify(keptRun.envelope));
      await index.markRunDeleted('old', new Date(100));
      await index.markRunDeleted('old', new Date(5_000)); // the first deletion time stays
      await index.markRunDeleted('kept', new Date(2_000));
      expect((await index.getRunWork('old'))?.deletedAt).toEqual(new Date(100));

      expect(await index.pruneDeletedRuns(new Date(1_000))).toEqual({ runs: 1, attestations: 1 });
      expect(await index.getRunRecord('old')).toBeUndefined();
      expect(await index.getRunWork('old')).toBeUndefined();
      expect(await index.findByRun({ ...run, name: 'old' })).toEqual([]);
      expect(
        (await index.findByDigest(digestOf('app'), { limit: 10 })).items.map((i) => i.run.uid).sort(),
      ).toEqual(['kept', 'live']);
      expect(await index.payloadBytes('tenant-a')).toBe(liveBytes + keptBytes);
      expect(await index.getRunRecord('kept')).toBeDefined();
      expect(await index.pruneDeletedRuns(new Date(1_000))).toEqual({ runs: 0, attestations: 0 });
      await index.close();
    });

    it('prunes in batches of `limit`', async () => {
      const { index } = await open();
      for (let i = 0; i < 5; i++) await index.markRunDeleted(`gone-${i}`, new Date(i));
      expect(await index.pruneDeletedRuns(new Date(100), 2)).toEqual({ runs: 2, attestations: 0 });
      expect(await index.pruneDeletedRuns(new Date(100), 2)).toEqual({ runs: 2, attestations: 0 });
      expect(await index.pruneDeletedRuns(new Date(100), 2)).toEqual({ runs: 1, attestations: 0 });
      expect(await index.getRunWork('gone-4')).toBeUndefined();
      await index.close();
    });
  });
}
