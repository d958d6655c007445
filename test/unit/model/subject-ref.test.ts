import { describe, expect, it } from 'vitest';
import { parseImageSubject, parseSubject } from '../../../src/model/index.ts';

const H = 'a'.repeat(64);
const S256 = `sha256:${H}`;
const S512 = `sha512:${'b'.repeat(128)}`;

describe('parseSubject: one grammar for every subject', () => {
  it.each([
    ['reg.io/acme/app:v1', 'reg.io', 'acme/app'],
    ['REG.io/acme/app', 'reg.io', 'acme/app'],
    ['docker.io/foo/bar', 'index.docker.io', 'foo/bar'],
    ['docker.io/busybox', 'index.docker.io', 'library/busybox'],
    ['localhost:5000/x/y', 'localhost:5000', 'x/y'],
    ['127.0.0.1:5000/a__b/c-d', '127.0.0.1:5000', 'a__b/c-d'],
    ['[::1]:5000/x', '[::1]:5000', 'x'],
  ])('%s is the OCI subject %s/%s', (name, registry, path) => {
    expect(parseSubject(name, S256)).toMatchObject({ ok: true, kind: 'oci', registry, path, digest: S256 });
  });

  it('image hints expand Docker Hub short names', () => {
    expect(parseImageSubject(`busybox:1.36@${S256}`)).toMatchObject({
      repository: 'index.docker.io/library/busybox',
    });
    expect(parseImageSubject('tenant-b/app', S256)).toMatchObject({
      repository: 'index.docker.io/tenant-b/app',
    });
  });

  it.each([
    'quay.io/acme/../evil/x',
    'quay.io/acme/./x',
    'quay.io/acme//x',
    'quay.io/acme/x/',
    'quay.io/Acme/x',
    'quay.io/acme/x ',
    ' quay.io/acme/x',
    'quay.io/ac me/x',
    'user@quay.io/acme/x',
    'user@quay.io:5000/acme/x',
    'quay.io:0/acme/x',
    'quay.io:65536/acme/x',
    'quay.io:/acme/x',
    'quay..io/acme/x',
    '-quay.io/acme/x',
    `quay.io/acme/x@${S256}`,
    'quay.io/acme/x:bad tag',
    `quay.io/${'a'.repeat(260)}`,
  ])('%j is not a valid image reference (image_ref_invalid)', (name) => {
    expect(parseSubject(name, S256)).toMatchObject({ ok: false, code: 'image_ref_invalid' });
  });

  it.each([
    ['pkg:npm/@acme/x@1.0.0', 'pkg'],
    ['https://downloads.acme.com/x.tar.gz', 'https'],
    ['app.tar.gz', ''],
    ['dist/app', ''],
  ])('%s is a URI subject (scheme %j)', (name, scheme) => {
    expect(parseSubject(name, S256)).toMatchObject({ ok: true, kind: 'uri', scheme, uri: name });
  });

  it.each(['dist/../x', 'pkg:npm/a/../b', 'https://h/a//b', 'a b', 'x\t', 'https://h/%2e%2e/x', ''])(
    '%j is not a valid URI subject (uri_invalid)',
    (name) => {
      expect(parseSubject(name, S256)).toMatchObject({ ok: false, code: 'uri_invalid' });
    },
  );

  it('digests are checked against their algorithm', () => {
    expect(parseSubject('reg.io/a/b', S512)).toMatchObject({ ok: true, digest: S512 });
    expect(parseSubject('reg.io/a/b', `sha512:${H}`)).toMatchObject({ ok: false, code: 'digest_invalid' });
    expect(parseSubject('reg.io/a/b', `sha256:${'A'.repeat(64)}`)).toMatchObject({ code: 'digest_invalid' });
    expect(parseSubject('reg.io/a/b', `sha1:${'a'.repeat(40)}`)).toMatchObject({
      code: 'digest_algorithm_unsupported',
    });
    expect(parseSubject('app', `sha1:${'a'.repeat(40)}`)).toMatchObject({ ok: true, kind: 'uri' });
    expect(parseSubject('app', `md5:${'a'.repeat(32)}`)).toMatchObject({
      code: 'digest_algorithm_unsupported',
    });
    expect(parseSubject('app', ` sha256:${H}`)).toMatchObject({ ok: false });
  });
});
