import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Layer, sha256 } from './layers.ts';

/**
 * V8 heap settings of the observer process, the same as deploy/base's NODE_OPTIONS (one rule: the
 * old space capped at half of the container's cgroup memory limit, 4 MiB semi-spaces). Defaults let
 * the young generation grow to 3 x 16 MiB and the old space to what the node has; V8 gives neither
 * back promptly, so each burst of garbage (a 4 MiB manifest read to its cap) left RSS higher for good.
 */
export const NODE_FLAGS = ['--max-old-space-size-percentage=50', '--max-semi-space-size=4'];

/** What the image runs; the Dockerfile states the same (USER, ENV, WORKDIR, ENTRYPOINT, CMD). */
export const RUNTIME = {
  User: '65532:65532',
  Env: ['PATH=/usr/local/bin:/usr/bin:/bin', 'NODE_ENV=production', 'HOME=/home/nonroot'],
  WorkingDir: '/app',
  Entrypoint: ['node', ...NODE_FLAGS, '/app/bin/provenance-observer.js'],
  Cmd: ['run', '--config', '/etc/provenance-observer/config'],
  ExposedPorts: { '8080/tcp': {} },
};

export interface ImageLayout {
  /** the OCI image layout directory */
  dir: string;
  tag: string;
  /** manifest digest: the image digest */
  digest: string;
  /** compressed bytes: config + layers (what a pull transfers) */
  size: number;
  /** uncompressed bytes of all layers */
  unpackedSize: number;
}

/**
 * Writes an OCI image layout (image-spec layout.md) holding one image: config with `created` and
 * history at the commit time (no build-time clock anywhere), an OCI manifest, index.json naming it
 * by `tag`. Same layers + same epoch + same labels = same digest.
 */
export function writeLayout(opts: {
  dir: string;
  tag: string;
  layers: Layer[];
  epoch: number;
  labels: Record<string, string>;
}): ImageLayout {
  const { dir, tag, layers } = opts;
  const created = new Date(opts.epoch * 1000).toISOString();
  const blobs = join(dir, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const put = (bytes: Uint8Array): string => {
    const digest = sha256(bytes);
    writeFileSync(join(blobs, digest.slice('sha256:'.length)), bytes);
    return digest;
  };
  const config = json({
    created,
    architecture: 'amd64',
    os: 'linux',
    config: { ...RUNTIME, Labels: opts.labels },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history: layers.map(() => ({ created, created_by: 'scripts/image/build.ts' })),
  });
  const manifest = json({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: {
      mediaType: 'application/vnd.oci.image.config.v1+json',
      digest: put(config),
      size: config.length,
    },
    layers: layers.map((l) => ({
      mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
      digest: put(l.gzip),
      size: l.gzip.length,
    })),
  });
  const digest = put(manifest);
  writeFileSync(join(dir, 'oci-layout'), json({ imageLayoutVersion: '1.0.0' }));
  const descriptor = {
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    digest,
    size: manifest.length,
    annotations: { 'org.opencontainers.image.ref.name': tag },
  };
  writeFileSync(join(dir, 'index.json'), json({ schemaVersion: 2, manifests: [descriptor] }));
  const size = config.length + layers.reduce((n, l) => n + l.gzip.length, 0);
  return { dir, tag, digest, size, unpackedSize: layers.reduce((n, l) => n + l.tarSize, 0) };
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}
