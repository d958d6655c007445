import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';

/** tar --mode: readable by all, directories and executables enterable/runnable by all, written by the owner only */
const PUBLIC_READ_ONLY = 'a+rX,go-w';

/** One image layer: the gzip blob and the digests the OCI config and manifest name it by. */
export interface Layer {
  /** sha256 of the gzip bytes (manifest) */
  digest: string;
  /** sha256 of the uncompressed tar (config rootfs.diff_ids) */
  diffId: string;
  gzip: Buffer;
  /** uncompressed tar size */
  tarSize: number;
}

/**
 * The image's layers, cut from one root filesystem: base OS, the Node binary, the app. The files
 * we copy in (Node, the app) take their modes from the build's umask: `mode` makes them readable
 * (and directories enterable) by the unprivileged user the image runs as, and writable by no one
 * but root, whatever the umask was, so the same tree gives the same layer. The Debian tree keeps
 * the modes its packages set.
 */
export const LAYERS: { name: string; paths: string[]; exclude: string[]; mode?: string }[] = [
  { name: 'debian', paths: ['.'], exclude: ['./usr/local/bin/node', './app'] },
  { name: 'node', paths: ['./usr/local/bin/node'], exclude: [], mode: PUBLIC_READ_ONLY },
  { name: 'app', paths: ['./app'], exclude: [], mode: PUBLIC_READ_ONLY },
];

/**
 * A reproducible layer of `paths` under `root`: GNU tar with entries sorted by name, every mtime
 * the commit time, owner root:root by number, POSIX format without atime/ctime; compressed by
 * zlib with no name or time in the gzip header; `mode` (tar --mode) applied to every entry. Same
 * tree + same epoch = same bytes.
 */
export function buildLayer(
  root: string,
  paths: string[],
  exclude: string[],
  epoch: number,
  mode?: string,
): Layer {
  const tar = execFileSync(
    'tar',
    [
      '--sort=name',
      '--format=posix',
      '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime',
      `--mtime=@${epoch}`,
      '--owner=0',
      '--group=0',
      '--numeric-owner',
      ...(mode ? [`--mode=${mode}`] : []),
      '--anchored',
      ...exclude.map((e) => `--exclude=${e}`),
      '-C',
      root,
      '-cf',
      '-',
      ...paths,
    ],
    { maxBuffer: 1 << 30 },
  );
  const gzip = gzipSync(tar, { level: 9 });
  return { digest: sha256(gzip), diffId: sha256(tar), gzip, tarSize: tar.length };
}

export function sha256(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}
