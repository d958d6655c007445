import { describe, expect, it } from 'vitest';
import { registryRequestKind } from '../../../src/oci/http/request-kind.ts';

describe('registryRequestKind', () => {
  it.each([
    ['/v2/team/app/manifests/sha256-ab.att', 'manifest'],
    ['/v2/team/app/blobs/sha256:ab', 'blob'],
    ['/v2/team/app/blobs/uploads/', 'upload'],
    ['/v2/team/app/blobs/uploads/0b1c-uuid', 'upload'],
    ['/v2/team/app/tags/list', 'tags'],
    ['/v2/team/app/referrers/sha256:ab', 'referrers'],
    ['/auth/token', 'token'],
    ['/v2/', 'other'],
    // a repository named like a kind is still read by its path's shape
    ['/v2/manifests/blobs/manifests/v1', 'manifest'],
  ] as const)('%s → %s', (path, kind) => {
    expect(registryRequestKind(path)).toBe(kind);
  });
});
