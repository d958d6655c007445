import { describe, expect, it } from 'vitest';
import { ObserverError } from '../../../src/errors.ts';
import { type ManifestHead, SubjectExistenceCheck } from '../../../src/policy/index.ts';
import type { RunRef } from '../../../src/tekton/index.ts';

const run: RunRef = {
  kind: 'TaskRun',
  namespace: 'tenant-a',
  name: 'b',
  uid: 'u',
  serviceAccountName: 'default',
};
const image = {
  registry: 'reg.io',
  path: 'tenant-a/app',
  repository: 'reg.io/tenant-a/app',
  digest: `sha256:${'a'.repeat(64)}`,
};

function checker(
  answer: () => Promise<200 | 401 | 403 | 404>,
  blob: () => Promise<200 | 401 | 403 | 404> = async () => 404,
  clock = { now: 0 },
) {
  const calls: string[] = [];
  const client = {
    headManifest: async (repository: string, ref: string) => {
      calls.push(`${repository}@${ref}`);
      return answer();
    },
    headBlob: async (repository: string, digest: string) => {
      calls.push(`blob ${repository}@${digest}`);
      return blob();
    },
  } satisfies ManifestHead;
  const check = new SubjectExistenceCheck({
    clientFor: async () => client,
    cacheSize: 2,
    ttlMs: 1000,
    now: () => clock.now,
  });
  return { check, calls };
}

describe('SubjectExistenceCheck', () => {
  it('HEADs the manifest by digest once, and caches a positive answer per namespace', async () => {
    const { check, calls } = checker(async () => 200);
    expect(await check.check(run, image)).toEqual({ result: 'exists' });
    expect(await check.check(run, image)).toEqual({ result: 'exists' });
    expect(calls).toEqual([`tenant-a/app@${image.digest}`]);
    await check.check({ ...run, namespace: 'tenant-b' }, image);
    expect(calls).toHaveLength(2);
  });
  it('404 is not_found, 401/403 and refused tokens are unreadable; negative answers are not cached', async () => {
    const notFound = checker(async () => 404);
    expect((await notFound.check.check(run, image)).result).toBe('not_found');
    await notFound.check.check(run, image);
    expect(notFound.calls).toHaveLength(4);
    expect((await checker(async () => 403).check.check(run, image)).result).toBe('unreadable');
    expect((await checker(async () => 401).check.check(run, image)).result).toBe('unreadable');
    const refused = checker(async () => {
      throw new ObserverError('token for HEAD manifest: HTTP 401', { code: 'registry', retryable: false });
    });
    expect((await refused.check.check(run, image)).result).toBe('unreadable');
  });
  it('a transient failure throws a retryable error: the subject is never dropped for it', async () => {
    const down = checker(async () => {
      throw new ObserverError('HEAD manifest: HTTP 503', { code: 'registry', retryable: true });
    });
    await expect(down.check.check(run, image)).rejects.toMatchObject({ retryable: true, code: 'registry' });
    const reset = checker(async () => {
      throw new TypeError('fetch failed');
    });
    await expect(reset.check.check(run, image)).rejects.toMatchObject({ retryable: true });
  });
  it('a digest that is a blob, not a manifest, exists (HEAD blob after the manifest 404)', async () => {
    const { check, calls } = checker(
      async () => 404,
      async () => 200,
    );
    expect(await check.check(run, image)).toEqual({ result: 'exists' });
    expect(calls).toEqual([`tenant-a/app@${image.digest}`, `blob tenant-a/app@${image.digest}`]);
  });
  it('a positive answer expires after the TTL: the registry is asked again', async () => {
    const clock = { now: 0 };
    const { check, calls } = checker(async () => 200, undefined, clock);
    await check.check(run, image);
    clock.now = 999;
    await check.check(run, image);
    expect(calls).toHaveLength(1);
    clock.now = 1000;
    await check.check(run, image);
    expect(calls).toHaveLength(2);
  });
});
