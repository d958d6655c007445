import { describe, expect, it } from 'vitest';
import {
  attestationLayer,
  cosignConfigBlob,
  cosignManifest,
  digestTag,
  parseImageReference,
  sha256Digest,
  signatureLayer,
} from '../../../src/oci/index.ts';

const D = `sha256:${'ab'.repeat(32)}`;

describe('cosign layout', () => {
  it('writes the config blob byte for byte as cosign: 233 bytes for one layer', () => {
    const config = new TextDecoder().decode(cosignConfigBlob([D]));
    expect(config).toBe(
      `{"architecture":"","created":"0001-01-01T00:00:00Z","history":[{"created":"0001-01-01T00:00:00Z"}],"os":"","rootfs":{"type":"layers","diff_ids":["${D}"]},"config":{}}`,
    );
    expect(config.length).toBe(233);
    expect(JSON.parse(new TextDecoder().decode(cosignConfigBlob([D, D]))).history).toHaveLength(2);
  });

  it('builds an attestation layer over the exact envelope bytes with sorted annotations', () => {
    const env = new TextEncoder().encode(
      '{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[]}',
    );
    const l = attestationLayer(env, {
      predicateType: 'https://slsa.dev/provenance/v1',
      certificatePem: 'CERT',
    });
    expect(l.descriptor).toEqual({
      mediaType: 'application/vnd.dsse.envelope.v1+json',
      size: env.length,
      digest: sha256Digest(env),
      annotations: {
        'dev.cosignproject.cosign/signature': '',
        'dev.sigstore.cosign/certificate': 'CERT',
        predicateType: 'https://slsa.dev/provenance/v1',
      },
    });
    const { bytes, config, manifest } = cosignManifest([l.descriptor]);
    const text = new TextDecoder().decode(bytes);
    expect(
      text.startsWith(
        '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":233,',
      ),
    ).toBe(true);
    expect(manifest.config.digest).toBe(sha256Digest(config));
    expect(Object.keys(JSON.parse(text).layers[0].annotations)).toEqual([
      'dev.cosignproject.cosign/signature',
      'dev.sigstore.cosign/certificate',
      'predicateType',
    ]);
  });

  it('puts the base64 signature on a simplesigning layer, and no certificate annotation when there is none', () => {
    const l = signatureLayer(new TextEncoder().encode('{}'), new Uint8Array([1, 2, 3]), {});
    expect(l.descriptor.mediaType).toBe('application/vnd.dev.cosign.simplesigning.v1+json');
    expect(l.descriptor.annotations).toEqual({ 'dev.cosignproject.cosign/signature': 'AQID' });
  });

  it('names tags by digest and rejects what is not a sha256 digest', () => {
    expect(digestTag(D, '.att')).toBe(`sha256-${'ab'.repeat(32)}.att`);
    expect(digestTag(D)).toBe(`sha256-${'ab'.repeat(32)}`);
    expect(() => digestTag('sha256:xyz', '.sig')).toThrow(/not a sha256 digest/);
  });
});

describe('parseImageReference', () => {
  it('splits host, repository, tag and digest', () => {
    expect(parseImageReference(`127.0.0.1:5000/demo/app:v1@${D}`)).toEqual({
      registry: '127.0.0.1:5000',
      repository: 'demo/app',
      tag: 'v1',
      digest: D,
    });
    expect(parseImageReference('registry.example.com/a/b')).toEqual({
      registry: 'registry.example.com',
      repository: 'a/b',
    });
  });
  it('rejects short names and bad digests', () => {
    expect(() => parseImageReference('library/ubuntu:22.04')).toThrow(/not a registry host/);
    expect(() => parseImageReference('r.io/app@sha256:1234')).toThrow(/digest/);
    expect(() => parseImageReference('r.io/App')).toThrow(/invalid repository/);
  });
});
