import { describe, expect, it } from 'vitest';
import {
  allOutputSubjects,
  appendMerged,
  buildArtifactSubjects,
  containerImages,
  gitSourceFromHints,
  imagesFromResults,
  parseDigest,
  parseImageDigestRef,
  structuredFromResults,
} from '../../../src/artifacts/index.ts';

const H = 'a'.repeat(64);
const r = (name: string, value: unknown) => ({ name, value: value as string });

describe('parseImageDigestRef (go-containerregistry name.NewDigest)', () => {
  it('normalises Docker Hub names and strips tags', () => {
    expect(parseImageDigestRef(`busybox:1.36@sha256:${H}`)).toEqual({
      ok: true,
      repository: 'index.docker.io/library/busybox',
      digest: `sha256:${H}`,
    });
    expect(parseImageDigestRef(`docker.io/foo/bar@sha256:${H}`)).toMatchObject({
      repository: 'index.docker.io/foo/bar',
    });
    expect(parseImageDigestRef(`localhost:5000/x/y:v1@sha256:${H}`)).toMatchObject({
      repository: 'localhost:5000/x/y',
    });
  });
  it.each([
    [`gcr.io/x@sha256:${H.toUpperCase()}`, 'digest_invalid'],
    [`gcr.io/x@sha256:${H.slice(1)}`, 'digest_invalid'],
    [`gcr.io/x@${H}`, 'digest_algorithm_unsupported'],
    [`gcr.io/x@sha512:${H}${H}`, 'digest_algorithm_unsupported'],
    [`gcr.io/X@sha256:${H}`, 'image_ref_invalid'],
    ['gcr.io/x', 'image_ref_invalid'],
  ])('rejects %s with %s', (ref, code) => {
    expect(parseImageDigestRef(ref)).toMatchObject({ ok: false, code });
  });
});

describe('parseDigest (Chains ParseDigest)', () => {
  it('accepts sha1/sha256/sha384/sha512, lower-casing the algorithm', () => {
    expect(parseDigest(` SHA256 : ${H} `)).toEqual({ ok: true, alg: 'sha256', hex: H });
    expect(parseDigest(`sha1:${'b'.repeat(40)}`)).toMatchObject({ ok: true, alg: 'sha1' });
  });
  it('rejects upper-case hex, wrong length, unknown algorithms', () => {
    expect(parseDigest(`sha256:${H.toUpperCase()}`)).toMatchObject({ ok: false, code: 'digest_invalid' });
    expect(parseDigest('sha1:abc')).toMatchObject({ ok: false, code: 'digest_invalid' });
    expect(parseDigest(`md5:${H}`)).toMatchObject({ ok: false, code: 'digest_algorithm_unsupported' });
    expect(parseDigest(H)).toMatchObject({ ok: false, code: 'digest_algorithm_unsupported' });
  });
});

describe('imagesFromResults', () => {
  it('pairs by identical prefix, trims, sorts pairs by marker, then reads IMAGES', () => {
    const got = imagesFromResults(
      [
        r('b-IMAGE_DIGEST', `sha256:${H}\n`),
        r('IMAGES', `gcr.io/zz@sha256:${H},\n gcr.io/yy@sha256:${H}\n`),
        r('b-IMAGE_URL', ' gcr.io/bb:tag\n'),
        r('a-IMAGE_URL', 'gcr.io/aa'),
        r('a-IMAGE_DIGEST', `sha256:${H}`),
      ],
      'TaskRun/t results',
    );
    expect(got.items.map((i) => i.repository)).toEqual(['gcr.io/aa', 'gcr.io/bb', 'gcr.io/zz', 'gcr.io/yy']);
    expect(got.skipped).toEqual([]);
  });
  it('skips a missing half, a non-string, an oversized value and a bad IMAGES entry, keeping the rest', () => {
    const got = imagesFromResults(
      [
        r('IMAGE_URL', 'gcr.io/ok'),
        r('IMAGE_DIGEST', `sha256:${H}`),
        r('lone-IMAGE_URL', 'gcr.io/lone'),
        r('obj-IMAGE_URL', { uri: 'x' }),
        r('big-IMAGE_URL', 'x'.repeat(5000)),
        r('IMAGES', `gcr.io/fine@sha256:${H},gcr.io/bad@sha256:ABC`),
      ],
      'TaskRun/t results',
    );
    expect(got.items.map((i) => i.repository)).toEqual(['gcr.io/ok', 'gcr.io/fine']);
    expect(got.skipped.map((s) => [s.source, s.code])).toEqual([
      ['TaskRun/t results.obj-IMAGE_URL', 'not_a_string'],
      ['TaskRun/t results.big-IMAGE_URL', 'value_too_large'],
      ['TaskRun/t results.lone-IMAGE_URL', 'pair_incomplete'],
      ['TaskRun/t results.IMAGES', 'digest_invalid'],
    ]);
  });
});

describe('structured ARTIFACT_OUTPUTS / ARTIFACT_INPUTS', () => {
  it('skips a string where an object is expected, missing fields and bad digests', () => {
    const got = structuredFromResults(
      [
        r('ok-ARTIFACT_OUTPUTS', { uri: 'pkg:npm/x', digest: `sha256:${H}` }),
        r('str-ARTIFACT_OUTPUTS', 'pkg:npm/x'),
        r('nouri-ARTIFACT_OUTPUTS', { digest: `sha256:${H}` }),
        r('bad-ARTIFACT_OUTPUTS', { uri: 'x', digest: 'sha256:abc' }),
      ],
      'S',
      'ARTIFACT_OUTPUTS',
    );
    expect(got.items.map((i) => i.resultName)).toEqual(['ok-ARTIFACT_OUTPUTS']);
    expect(got.skipped.map((s) => s.code)).toEqual([
      'not_an_object',
      'object_field_missing',
      'digest_invalid',
    ]);
  });
  it('v1.0 subjects take only isBuildArtifact "true" outputs; v0.2 takes all', () => {
    const results = [
      r('a-ARTIFACT_OUTPUTS', { uri: 'gcr.io/a', digest: `sha256:${H}`, isBuildArtifact: 'true' }),
      r('b-ARTIFACT_OUTPUTS', { uri: 'gcr.io/b', digest: `sha256:${H}` }),
      r('c-ARTIFACT_URI', 'file.tgz'),
      r('c-ARTIFACT_DIGEST', `sha512:${'c'.repeat(128)}`),
    ];
    expect(buildArtifactSubjects(results, 'S').items.map((s) => s.name)).toEqual(['gcr.io/a']);
    expect(allOutputSubjects(results, 'S').items.map((s) => s.name)).toEqual([
      'file.tgz',
      'gcr.io/a',
      'gcr.io/b',
    ]);
  });
});

describe('gitSourceFromHints', () => {
  it('applies defaults < params < results and SPDX-normalises the URL', () => {
    const got = gitSourceFromHints(
      {
        defaults: [
          { name: 'CHAINS-GIT_URL', default: 'https://default' },
          { name: 'CHAINS-GIT_COMMIT', default: 'd' },
        ],
        params: [{ name: 'CHAINS-GIT_COMMIT', value: 'p' }],
        results: [{ name: 'CHAINS-GIT_URL', value: ' https://r.example/x.git\n' }],
      },
      'S',
    );
    expect(got.items).toEqual([{ uri: 'git+https://r.example/x.git', alg: 'sha1', hex: 'p' }]);
  });
  it('never emits git+.git: a commit without URL is skipped with a reason', () => {
    const got = gitSourceFromHints({ results: [{ name: 'CHAINS-GIT_COMMIT', value: 'abc' }] }, 'S');
    expect(got.items).toEqual([]);
    expect(got.skipped).toEqual([
      { source: 'S results.CHAINS-GIT_COMMIT', code: 'git_url_missing', reason: expect.any(String) },
    ]);
  });
});

describe('containerImages', () => {
  it('strips docker-pullable:// and skips unparsable imageIDs', () => {
    const got = containerImages(
      [
        { name: 'a', imageID: `docker-pullable://gcr.io/a@sha256:${H}` },
        { name: 'b', imageID: 'test.io/b' },
        { name: 'c' },
      ],
      'TaskRun/t',
      'steps',
    );
    expect(got.items).toEqual([{ uri: 'oci://gcr.io/a', alg: 'sha256', hex: H }]);
    expect(got.skipped.map((s) => [s.source, s.code])).toEqual([
      ['TaskRun/t status.steps[b].imageID', 'step_image_invalid'],
      ['TaskRun/t status.steps[c].imageID', 'step_image_invalid'],
    ]);
  });
});

describe('appendMerged (AppendSubjects/AppendMaterials)', () => {
  it('merges digest sets when name and one digest match, appends otherwise', () => {
    const got = appendMerged([{ name: 'x', digest: { sha256: H } }], 'name', [
      { name: 'x', digest: { sha256: H, sha512: 'e' } },
      { name: 'x', digest: { sha256: 'f'.repeat(64) } },
    ]);
    expect(got).toEqual([
      { name: 'x', digest: { sha256: H, sha512: 'e' } },
      { name: 'x', digest: { sha256: 'f'.repeat(64) } },
    ]);
  });
});
