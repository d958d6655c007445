import { describe, expect, it } from 'vitest';
import type { AttestationIndex } from '../../../src/index/index.ts';
import { IndexHealth } from '../../../src/index/index.ts';

describe('IndexHealth', () => {
  it('is not ready from the first failed probe, since then, until a good one', async () => {
    let up = true;
    const index = { healthy: async () => up } satisfies Pick<AttestationIndex, 'healthy'>;
    let now = Date.parse('2026-01-01T00:00:00Z');
    const health = new IndexHealth({ index, now: () => now });
    await health.start();
    expect(health.status()).toEqual({ ok: true });
    up = false;
    expect(await health.probe()).toBe(false);
    now += 10_000;
    await health.probe();
    expect(health.status()).toEqual({
      ok: false,
      message: 'index database not answering since 2026-01-01T00:00:00.000Z',
    });
    up = true;
    await health.probe();
    expect(health.status()).toEqual({ ok: true });
    health.stop();
  });
});
