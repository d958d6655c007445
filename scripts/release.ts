/**
 * npm run release -- --image <registry/repo>@sha256:<hex> [--version <v>] [--deploy <dir>] [--out <dir>]
 *
 * Pins a release in deploy/ and renders it:
 *  1. deploy/base/kustomization.yaml: `images:` points at the image by digest (`newName` when the
 *     repository is not the default ghcr.io/provenance-observer/provenance-observer), and every
 *     `app.kubernetes.io/version` label under deploy/ (base, Component, overlays) is `--version`
 *     (default: package.json's version);
 *  2. release/<version>/release.yaml: the base as `kubectl kustomize deploy/` renders it (one
 *     multi-document YAML, `kubectl apply --server-side -f release.yaml`), and
 *     release/<version>/release-monitoring.yaml: the same with the Prometheus Operator's
 *     ServiceMonitor and PrometheusRule (deploy/overlays/monitoring), plus SHA256SUMS of both.
 * The image digest comes from `npm run image -- --push <registry/repo>` (its image.json); the build is
 * reproducible, so the same commit gives the same digest (docs: deploy/README.md "Releases").
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { loadKustomizeBase, toApplyBody } from '../test/env/manifests.ts';

const root = resolve(import.meta.dirname, '..');
const DEFAULT_IMAGE = 'ghcr.io/provenance-observer/provenance-observer';
const PINNED = /^(?<repo>[a-z0-9.-]+(?::\d+)?\/[a-z0-9._/-]+)@(?<digest>sha256:[0-9a-f]{64})$/;
const LABEL = /(app\.kubernetes\.io\/version: )"[^"]*"/;
const VERSION = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/;

export interface ReleaseOptions {
  image: string;
  version: string;
  deployDir: string;
  outDir: string;
}

/** Pins `image` and `version` in `deployDir` and writes the rendered manifests; returns their paths. */
export function release(o: ReleaseOptions): string[] {
  const pinned = PINNED.exec(o.image)?.groups;
  if (!pinned) throw new Error(`--image ${o.image}: expected <registry>/<repository>@sha256:<64 hex>`);
  if (!VERSION.test(o.version)) throw new Error(`--version ${o.version}: expected a semantic version`);
  pinImage(join(o.deployDir, 'base/kustomization.yaml'), pinned.repo as string, pinned.digest as string);
  for (const file of versionLabelled(o.deployDir)) setVersionLabel(file, o.version);
  const out = join(o.outDir, o.version);
  mkdirSync(out, { recursive: true });
  const rendered = {
    'release.yaml': render(o.deployDir),
    'release-monitoring.yaml': render(join(o.deployDir, 'overlays/monitoring')),
  };
  const sums: string[] = [];
  for (const [name, text] of Object.entries(rendered)) {
    writeFileSync(join(out, name), text);
    sums.push(`${createHash('sha256').update(text).digest('hex')}  ${name}`);
  }
  writeFileSync(join(out, 'SHA256SUMS'), `${sums.join('\n')}\n`);
  return [...Object.keys(rendered), 'SHA256SUMS'].map((n) => join(out, n));
}

function render(dir: string): string {
  return loadKustomizeBase(dir)
    .map((o) => `---\n${stringify(toApplyBody(o), { lineWidth: 0 })}`)
    .join('');
}

function pinImage(file: string, repo: string, digest: string): void {
  const text = readFileSync(file, 'utf8');
  const entry =
    /( {2}- name: ghcr\.io\/provenance-observer\/provenance-observer\n)(?: {4}newName: .*\n)?( {4}digest: )sha256:[0-9a-f]{64}/;
  if (!entry.test(text)) throw new Error(`${file}: no images entry for ${DEFAULT_IMAGE} with a digest`);
  const newName = repo === DEFAULT_IMAGE ? '' : `    newName: ${repo}\n`;
  writeFileSync(file, text.replace(entry, `$1${newName}$2${digest}`));
}

/** Every YAML file under deploy/ that sets the version label (base, Component, overlays). */
function versionLabelled(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => join(dir, f))
    .filter((f) => LABEL.test(readFileSync(f, 'utf8')));
}

function setVersionLabel(file: string, version: string): void {
  writeFileSync(file, replaceVersion(readFileSync(file, 'utf8'), file, version));
}

function replaceVersion(text: string, file: string, version: string): string {
  if (!LABEL.test(text)) throw new Error(`${file}: no app.kubernetes.io/version label`);
  return text.replaceAll(new RegExp(LABEL.source, 'g'), `$1"${version}"`);
}

function main(): void {
  const { values } = parseArgs({
    options: {
      image: { type: 'string' },
      version: { type: 'string' },
      deploy: { type: 'string', default: join(root, 'deploy') },
      out: { type: 'string', default: join(root, 'release') },
    },
  });
  if (!values.image)
    throw new Error('usage: npm run release -- --image <registry/repo>@sha256:<hex> [--version <v>]');
  const version =
    values.version ?? (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version as string);
  for (const file of release({
    image: values.image,
    version,
    deployDir: resolve(values.deploy),
    outDir: resolve(values.out),
  }))
    console.log(file);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    main();
  } catch (err) {
    console.error(`release: ${(err as Error).message}`);
    process.exit(2);
  }
}
