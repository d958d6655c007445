/**
 * npm run image: builds the service's OCI image without a container engine or a base image from the
 * internet, reproducibly, and pushes it with its own signed SLSA provenance.
 *
 *   npm run image -- [--push <registry/repo> | --no-push] [--work <dir>] [--key <file> [--password-file <file>]]
 *
 *  1. the app from the commit (not the work tree): dist/ and production node_modules (stage.ts);
 *  2. the root filesystem from Debian 12 packages, Node and the app (rootfs.sh);
 *  3. three reproducible layers (debian, node, app) and an OCI image layout (layers.ts, layout.ts);
 *     the same commit gives the same digest: every time is the commit time;
 *  4. pushes with skopeo (digests preserved) to --push, default the local environment's registry
 *     (`<registry>/provenance-observer/provenance-observer`), tag = the short commit;
 *  5. signs its provenance and the image with --key (default: the THROWAWAY demo key in
 *     keys-example/) and pushes them as .att and .sig beside the image (provenance.ts).
 * Writes <work>/image.json (digest, reference, sizes) and prints it.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadLocalEnv } from '../../test/env/index.ts';
import { buildLayer, LAYERS } from './layers.ts';
import { writeLayout } from './layout.ts';
import { attestImage, imageStatement, sha256File } from './provenance.ts';
import { nodeBinary, readSource, stageApp } from './stage.ts';

const root = resolve(import.meta.dirname, '../..');
const say = (line: string) => console.error(`image: ${line}`);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      push: { type: 'string' },
      'no-push': { type: 'boolean', default: false },
      work: { type: 'string', default: join(root, '.local/image') },
      key: { type: 'string', default: join(root, 'keys-example/cosign.key') },
      'password-file': { type: 'string', default: join(root, 'keys-example/cosign.password') },
    },
  });
  const startedOn = new Date();
  const source = readSource(root);
  if (source.dirty) say('the work tree has uncommitted changes: the image holds the commit only');
  const work = resolve(values.work);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });

  say(`staging the app from ${source.commit.slice(0, 12)}`);
  const app = stageApp(root, source.commit, join(work, 'app'));
  const { path: nodeBin, version: nodeVersion } = nodeBinary(root);
  say(`root filesystem: Debian 12 packages, node ${nodeVersion}, the app`);
  const rootfs = join(work, 'rootfs');
  const packagesFile = join(work, 'packages.txt');
  execFileSync(join(root, 'scripts/image/rootfs.sh'), [rootfs, nodeBin, app, packagesFile], {
    stdio: 'inherit',
  });

  say('layers and OCI layout');
  const layers = LAYERS.map((l) => ({
    name: l.name,
    ...buildLayer(rootfs, l.paths, l.exclude, source.epoch, l.mode),
  }));
  const tag = source.commit.slice(0, 12);
  const layout = writeLayout({
    dir: join(work, 'layout'),
    tag,
    layers,
    epoch: source.epoch,
    labels: {
      'org.opencontainers.image.revision': source.commit,
      'org.opencontainers.image.title': 'provenance-observer',
    },
  });
  execFileSync('umoci', ['stat', '--image', `${layout.dir}:${tag}`], { stdio: 'ignore' }); // valid layout
  const result: Record<string, unknown> = {
    digest: layout.digest,
    layout: `${layout.dir}:${tag}`,
    commit: source.commit,
    sizeBytes: layout.size,
    unpackedBytes: layout.unpackedSize,
    layers: layers.map((l) => ({ name: l.name, digest: l.digest, bytes: l.gzip.length })),
  };

  if (!values['no-push']) {
    const { repository, insecure } = pushTarget(values.push);
    const tlsVerify = insecure.length === 0 ? 'true' : 'false';
    say(`pushing ${repository}:${tag}`);
    execFileSync('skopeo', [
      'copy',
      '--quiet',
      '--preserve-digests',
      `--dest-tls-verify=${tlsVerify}`,
      `oci:${layout.dir}:${tag}`,
      `docker://${repository}:${tag}`,
    ]);
    const image = { repository, digest: layout.digest };
    const statement = imageStatement({
      image,
      source,
      packageLock: sha256File(join(app, 'package-lock.json')),
      node: { version: nodeVersion, sha256: sha256File(nodeBin) },
      debianPackages: readFileSync(packagesFile, 'utf8').trim().split('\n'),
      startedOn,
      finishedOn: new Date(),
    });
    writeFileSync(join(work, 'provenance.json'), `${JSON.stringify(statement, null, 2)}\n`);
    say(`signing its provenance and the image with ${values.key}`);
    const locations = await attestImage({
      statement,
      image,
      keyFile: values.key,
      passwordFile: values['password-file'],
      insecureRegistries: insecure,
    });
    Object.assign(result, {
      reference: `${repository}@${layout.digest}`,
      tag: `${repository}:${tag}`,
      attestations: locations,
    });
  }
  // the staged sources (a second package.json, biome.json, …) and the unpacked tree are not kept
  rmSync(app, { recursive: true, force: true });
  rmSync(rootfs, { recursive: true, force: true });
  writeFileSync(join(work, 'image.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result, null, 2));
}

/** --push, or the local environment's plain-HTTP registry. */
function pushTarget(push: string | undefined): { repository: string; insecure: string[] } {
  if (push) return { repository: push, insecure: [] };
  const { registry } = loadLocalEnv();
  return { repository: `${registry}/provenance-observer/provenance-observer`, insecure: [registry] };
}

main().catch((err: unknown) => {
  console.error(`image: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
