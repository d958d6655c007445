import { describe, expect, it } from 'vitest';
import { SqliteIndex } from '../../../src/index/index.ts';
import { recordAttestation } from '../../../src/reconcile/record.ts';
import { fakeSigner, okOutcome } from '../fakes.ts';

describe('recordAttestation', () => {
  it("records the key that signed this run's envelope, not the signer's key at record time", async () => {
    const index = new SqliteIndex({ path: ':memory:' });
    const run = {
      kind: 'TaskRun' as const,
      namespace: 'tenant-a',
      name: 'build-1',
      uid: 'u1',
      serviceAccountName: 'default',
    };
    // okOutcome's envelope is signed by SHA256:fake; meanwhile the signer moved on (keyless: another
    // run's ephemeral key; key signer: a rotation between signing and a retried store)
    const signer = { ...fakeSigner, keyId: 'SHA256:another-runs-key' };
    await recordAttestation(index, run, okOutcome('u1'), signer, Date.parse('2026-11-26T10:00:00Z'));
    const [summary] = await index.findByRun({ namespace: 'tenant-a', kind: 'TaskRun', name: 'build-1' });
    expect(summary?.keyId).toBe('SHA256:fake');
  });

  it('records the inputs left out of the provenance with their reason codes (the lookup API shows them)', async () => {
    const index = new SqliteIndex({ path: ':memory:' });
    const run = {
      kind: 'TaskRun' as const,
      namespace: 'tenant-a',
      name: 'build-2',
      uid: 'u2',
      serviceAccountName: 'default',
    };
    const skipped = [
      {
        source: 'TaskRun/build-2 results.BAD_IMAGE_DIGEST',
        code: 'digest_invalid' as const,
        reason: 'not hex',
      },
    ];
    await recordAttestation(
      index,
      run,
      { ...okOutcome('u2'), skipped },
      fakeSigner,
      Date.parse('2026-11-26T10:00:00Z'),
    );
    const [summary] = await index.findByRun({ namespace: 'tenant-a', kind: 'TaskRun', name: 'build-2' });
    expect(summary?.skipped).toEqual(skipped);
  });
});
