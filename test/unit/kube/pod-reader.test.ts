import { describe, expect, it } from 'vitest';
import { KubeApiError, NamespaceLabels, PodReader } from '../../../src/kube/index.ts';
import { createLogger } from '../../../src/observability/index.ts';

const fail = (code: number) => () => Promise.reject(new KubeApiError(code, { message: 'nope' }));
const logger = createLogger({ level: 'silent' });

describe('PodReader', () => {
  it('answers undefined for a pruned Pod, and names the Pod in other failures', async () => {
    expect(await new PodReader({ api: { readNamespacedPod: fail(404) } }).get('ns', 'p')).toBeUndefined();
    await expect(
      new PodReader({ api: { readNamespacedPod: fail(403) } }).get('ns', 'p'),
    ).rejects.toMatchObject({
      retryable: false,
      message: expect.stringContaining('reading Pod ns/p: HTTP 403'),
    });
    await expect(
      new PodReader({ api: { readNamespacedPod: fail(503) } }).get('ns', 'p'),
    ).rejects.toMatchObject({
      retryable: true,
    });
  });
});

describe('NamespaceLabels', () => {
  it('caches labels for the TTL, and treats an unreadable namespace as unlabelled', async () => {
    let now = 0;
    let reads = 0;
    const labels = new NamespaceLabels({
      api: {
        readNamespace: async ({ name }) => {
          reads++;
          if (name === 'hidden') throw new KubeApiError(403, {});
          return { metadata: { name, labels: { team: name } } };
        },
      },
      logger,
      ttlMs: 1000,
      now: () => now,
    });
    expect(await labels.get('a')).toEqual({ team: 'a' });
    await labels.get('a');
    expect(reads).toBe(1);
    now = 1001;
    await labels.get('a');
    expect(reads).toBe(2);
    expect(await labels.get('hidden')).toEqual({});
  });
});
