import { describe, expect, it } from 'vitest';
import {
  type ClaimedSubject,
  type ManifestHead,
  parseSubjectPolicy,
  SubjectExistenceCheck,
  SubjectGate,
  UNSET_SUBJECT_POLICY,
} from '../../../src/policy/index.ts';
import type { RunRef } from '../../../src/tekton/index.ts';

const run: RunRef = {
  kind: 'TaskRun',
  namespace: 'tenant-a',
  name: 'b',
  uid: 'u',
  serviceAccountName: 'default',
};
const dA = `sha256:${'a'.repeat(64)}`;
const NS = '$' + '{namespace}';
const policy = parseSubjectPolicy(
  `rules: [{name: own, namespaces: [tenant-a], repositories: ["reg.io/${NS}/**"], uris: ["pkg:npm/${NS}/*"]}]`,
);

function gate(exists: (registry: string, path: string) => boolean, p = policy) {
  const heads: string[] = [];
  const client = (registry: string): ManifestHead => ({
    headManifest: async (path, digest) => {
      heads.push(`${registry} ${path}@${digest}`);
      return exists(registry, path) ? 200 : 404;
    },
    headBlob: async () => 404,
  });
  const existence = new SubjectExistenceCheck({ clientFor: async (_r, i) => client(i.registry) });
  return { g: new SubjectGate({ policy: p, existence }), heads };
}

const claim = (name: string, digest = dA, image = false): ClaimedSubject => ({
  source: 's',
  name,
  digest,
  image,
});

describe('SubjectGate', () => {
  it('passes a canonical, allowed, existing OCI subject and an allowed URI', async () => {
    const { g, heads } = gate(() => true);
    const out = await g.check(run, [claim('REG.io/tenant-a/app:v1'), claim('pkg:npm/tenant-a/x')]);
    expect(out.skipped).toEqual([]);
    expect(out.checked.map((c) => (c.kind === 'oci' ? c.repository : c.uri))).toEqual([
      'reg.io/tenant-a/app',
      'pkg:npm/tenant-a/x',
    ]);
    expect(heads).toEqual([`reg.io tenant-a/app@${dA}`]);
  });

  it.each([
    ['reg.io/tenant-a/../tenant-b/app', 'image_ref_invalid'],
    ['reg.io/tenant-a/app ', 'image_ref_invalid'],
    ['reg.io/tenant-b/app', 'repository_not_allowed'],
    ['docker.io/tenant-a/app', 'repository_not_allowed'],
    ['pkg:npm/tenant-b/x', 'uri_not_allowed'],
    ['app.tar.gz', 'uri_not_allowed'],
    ['dist/../x', 'uri_invalid'],
  ])('%j is skipped as %s, and no HEAD is sent for it', async (name, code) => {
    const { g, heads } = gate(() => true);
    const out = await g.check(run, [claim(name)]);
    expect(out.checked).toEqual([]);
    expect(out.verdicts).toEqual([undefined]);
    expect(out.skipped).toMatchObject([{ code }]);
    expect(heads).toEqual([]);
  });

  it('a digest not matching its algorithm is skipped; a missing subject is subject_not_found', async () => {
    const { g } = gate(() => false);
    const out = await g.check(run, [
      claim('reg.io/tenant-a/app', `sha512:${'a'.repeat(64)}`),
      claim('reg.io/tenant-a/app', `sha384:${'a'.repeat(96)}`),
      claim('reg.io/tenant-a/app'),
    ]);
    expect(out.skipped.map((s) => s.code)).toEqual([
      'digest_invalid',
      'digest_algorithm_unsupported',
      'subject_not_found',
    ]);
  });

  it('spellings of one subject are checked once and each claim gets its verdict', async () => {
    const { g, heads } = gate(() => true);
    const out = await g.check(run, [
      claim('reg.io/tenant-a/app:v1'),
      claim('reg.io/tenant-a/app'),
      claim('reg.io/tenant-a/app', dA, true),
    ]);
    expect(out.checked).toHaveLength(1);
    expect(out.verdicts.every((v) => v === out.checked[0])).toBe(true);
    expect(heads).toHaveLength(1);
  });

  it('without a policy everything well-formed is allowed (Chains), still parsed and checked for existence', async () => {
    const { g } = gate((r) => r === 'index.docker.io', UNSET_SUBJECT_POLICY);
    const out = await g.check(run, [claim('busybox', dA, true), claim('quay.io/x/../y'), claim('app')]);
    expect(out.checked.map((c) => c.rule)).toEqual(['unset', 'unset']);
    expect(out.skipped.map((s) => s.code)).toEqual(['image_ref_invalid']);
  });
});
