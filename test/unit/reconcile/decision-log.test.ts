import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SqliteIndex } from '../../../src/index/index.ts';
import { entryLeafHash, inclusionProof, treeRoot, verifyInclusion } from '../../../src/log/index.ts';
import { doneTaskRun, failedOutcome, fakeReconciler, okOutcome } from '../fakes.ts';

const key = { kind: 'TaskRun' as const, namespace: 'tenant-a', name: 'build-1' };

describe('the reconciler logs each final decision once', () => {
  it('an attested run: one attested entry (payload digest, key id, where stored), a second reconcile adds none', async () => {
    const index = new SqliteIndex({ path: ':memory:' });
    const { runs, attestor, reconciler } = fakeReconciler(index, {}, () =>
      Date.parse('2026-12-05T05:00:00Z'),
    );
    runs.put('TaskRun', doneTaskRun('build-1', 'u1'));
    const outcome = okOutcome('u1');
    attestor.outcomes.push(outcome);
    await reconciler.reconcile(key, 'r1');
    await reconciler.reconcile(key, 'r2');
    const entries = await index.logEntriesOfRun('u1');
    expect(entries.map((e) => e.type)).toEqual(['attested']);
    const entry = JSON.parse(entries[0]?.entry ?? '{}');
    const payload = outcome.provenance?.artifact.envelope.payload ?? '';
    expect(entry).toMatchObject({
      v: 1,
      type: 'attested',
      run: { uid: 'u1', kind: 'TaskRun', namespace: 'tenant-a', name: 'build-1' },
      payloadDigest: `sha256:${createHash('sha256').update(Buffer.from(payload, 'base64')).digest('hex')}`,
      keyIds: ['SHA256:fake'],
      stored: [{ backend: 'oci', locations: ['registry.test/app:sha256-aaa.att'] }],
      at: '2026-12-05T05:00:00.000Z',
    });
    const read = (ids: Parameters<SqliteIndex['logNodes']>[0]) => index.logNodes(ids);
    const proof = await inclusionProof(read, 0, 1);
    expect(verifyInclusion(0, 1, entryLeafHash(entry), proof, await treeRoot(read, 1))).toBeUndefined();
    await index.close();
  });

  it('a run given up on: one refused entry with the reason the tenant sees; a retry logs nothing', async () => {
    const index = new SqliteIndex({ path: ':memory:' });
    const { runs, attestor, reconciler } = fakeReconciler(index);
    runs.put('TaskRun', doneTaskRun('build-1', 'u2'));
    attestor.outcomes.push(failedOutcome('u2', false));
    await reconciler.reconcile(key, 'r1');
    const entries = await index.logEntriesOfRun('u2');
    expect(entries.map((e) => e.type)).toEqual(['refused']);
    expect(JSON.parse(entries[0]?.entry ?? '{}').reason).toBe((await index.getRunRecord('u2'))?.lastError);
    await index.close();
  });

  it('a retryable failure logs nothing yet', async () => {
    const index = new SqliteIndex({ path: ':memory:' });
    const { runs, attestor, reconciler } = fakeReconciler(index);
    runs.put('TaskRun', doneTaskRun('build-1', 'u3'));
    attestor.outcomes.push(failedOutcome('u3', true));
    await reconciler.reconcile(key, 'r1');
    expect(await index.logSize()).toBe(0);
    await index.close();
  });
});
