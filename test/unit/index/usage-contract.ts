import { describe, expect, it } from 'vitest';
import type { IndexFactory } from './index-contract.ts';

const capture = (uid: string, namespace: string, bytes: number) => ({
  uid,
  run: { kind: 'TaskRun' as const, namespace, name: uid },
  object: { metadata: { uid, name: uid, namespace }, pad: 'x'.repeat(bytes) },
  capturedAt: new Date(1000),
});

/**
 * What every index promises about a namespace's use of the disk (index-retention.ts), on SQLite and
 * PostgreSQL: captured copies are counted per namespace on insert, replace and prune.
 */
export function usageContract(name: string, factory: IndexFactory): void {
  describe(`${name}: bytes per namespace`, () => {
    it('counts captured copies on insert, replace and prune, per namespace', async () => {
      const index = await factory({ now: 1_000_000 });
      await index.captureRuns([
        capture('u1', 'a', 10_000),
        capture('u2', 'a', 5_000),
        capture('u3', 'b', 100),
      ]);
      const a = await index.capturedBytes('a');
      expect(a).toBeGreaterThan(15_000);
      expect(a).toBeLessThan(15_600);
      expect(await index.capturedBytes('b')).toBeLessThan(a / 10);
      // the same uid again replaces its copy: counted once, at its new size
      await index.captureRuns([capture('u1', 'a', 1_000)]);
      expect(await index.capturedBytes('a')).toBe(a - 9_000);
      await index.markRunDeleted('u2', new Date(0));
      await index.pruneDeletedRuns(new Date(1));
      expect(await index.capturedBytes('a')).toBeLessThan(1_300);
      expect(await index.capturedBytes('nobody')).toBe(0);
      expect(await index.payloadBytes('a')).toBe(0); // envelopes are their own total
      expect((await index.storageBytes()).databaseBytes).toBeGreaterThan(0);
    });
  });
}
