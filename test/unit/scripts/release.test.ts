import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { release } from '../../../scripts/release.ts';

const DEPLOY = resolve(import.meta.dirname, '../../../deploy');
const DIGEST = `sha256:${'ab'.repeat(32)}`;

/** A copy of deploy/ to release from, and where the rendered files go. */
function scratch() {
  const dir = mkdtempSync(join(tmpdir(), 'release-'));
  cpSync(DEPLOY, join(dir, 'deploy'), { recursive: true });
  return { deployDir: join(dir, 'deploy'), outDir: join(dir, 'release') };
}

const docs = (file: string) =>
  parseAllDocuments(readFileSync(file, 'utf8'), { version: '1.1' }).map((d) => d.toJS());

describe('npm run release', () => {
  it('renders release.yaml (no Prometheus Operator objects) and release-monitoring.yaml, image by digest, version labels, checksums', () => {
    const at = scratch();
    const files = release({ image: `registry.example/team/observer@${DIGEST}`, version: '1.2.3', ...at });
    expect(files.map((f) => f.slice(at.outDir.length + 1))).toEqual([
      '1.2.3/release.yaml',
      '1.2.3/release-monitoring.yaml',
      '1.2.3/SHA256SUMS',
    ]);
    const plain = docs(files[0] as string);
    const monitored = docs(files[1] as string);
    const deployment = plain.find((o) => o.kind === 'Deployment');
    expect(deployment.spec.template.spec.containers[0].image).toBe(
      `registry.example/team/observer@${DIGEST}`,
    );
    expect(plain.map((o) => o.kind)).not.toContain('ServiceMonitor');
    expect(monitored.map((o) => o.kind)).toEqual(
      expect.arrayContaining(['ServiceMonitor', 'PrometheusRule']),
    );
    for (const o of [...plain, ...monitored])
      expect(o.metadata.labels['app.kubernetes.io/version']).toBe('1.2.3');
    for (const line of readFileSync(files[2] as string, 'utf8')
      .trim()
      .split('\n')) {
      const [sum, name] = line.split('  ');
      const text = readFileSync(join(at.outDir, '1.2.3', name as string));
      expect(createHash('sha256').update(text).digest('hex')).toBe(sum);
    }
    // deploy/ itself now pins the release: `kubectl apply -k deploy/` installs the same
    const kustomization = readFileSync(join(at.deployDir, 'base/kustomization.yaml'), 'utf8');
    expect(kustomization).toContain(`newName: registry.example/team/observer\n    digest: ${DIGEST}`);
  });

  it('refuses an image without a digest, or a version that is not semantic', () => {
    const at = scratch();
    expect(() =>
      release({ image: 'ghcr.io/provenance-observer/provenance-observer:latest', version: '1.0.0', ...at }),
    ).toThrow(/expected <registry>\/<repository>@sha256/);
    expect(() => release({ image: `ghcr.io/x/y@${DIGEST}`, version: 'latest', ...at })).toThrow(
      /semantic version/,
    );
  });
});
